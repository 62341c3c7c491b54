// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/cmp/cmp_txn_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>

namespace certvault::ca::cmp {

Result<std::unique_ptr<TxnStore>> TxnStore::Open(const std::string& dir) {
  std::unique_ptr<TxnStore> store(new TxnStore(dir + "/cmp-transactions"));
  std::ifstream in(store->path_);
  std::string line;
  while (in && std::getline(in, line)) {
    std::istringstream fields(line);
    std::string tid, serial;
    int64_t when = 0;
    if (!(fields >> tid >> serial >> when)) return DataLossError("cmp-transactions: malformed line");
    store->serials_[tid] = serial;
  }
  return store;
}

Result<std::string> TxnStore::Find(const std::string& tid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = serials_.find(tid);
  if (it == serials_.end()) return NotFoundError("no certificate for this transactionID");
  return it->second;
}

Status TxnStore::Begin(const std::string& tid) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!in_flight_.insert(tid).second) return AlreadyExistsError("a request with this transactionID is in progress");
  return OkStatus();
}

void TxnStore::End(const std::string& tid) {
  std::lock_guard<std::mutex> lock(mu_);
  in_flight_.erase(tid);
}

Status TxnStore::Record(const std::string& tid, const std::string& serial, int64_t now) {
  std::string line = tid + " " + serial + " " + std::to_string(now) + "\n";
  // Not under mu_: concurrent transactions append and sync in parallel (a
  // line this short is written in one piece with O_APPEND); Begin keeps
  // one transactionID from being recorded twice.
  int fd = open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return UnavailableError("cannot open " + path_);
  bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && fdatasync(fd) == 0;
  close(fd);
  if (!ok) return UnavailableError("cannot write " + path_);
  std::lock_guard<std::mutex> lock(mu_);
  serials_[tid] = serial;
  return OkStatus();
}

}  // namespace certvault::ca::cmp
