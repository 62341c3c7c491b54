// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// TxnStore: transactionID -> serial of the certificate issued in that CMP
// transaction, so that a repeated ir/cr/p10cr/kur (a client retrying after
// a lost answer, RFC 9483 §3.5 / RFC 6712 §3.6) gets the same certificate
// instead of a second one. File DIR/cmp-transactions, one line per issued
// certificate: "<transactionID-hex> <serial-hex> <epoch>", appended with
// O_APPEND and fdatasync before the answer leaves the server; read once at
// start into memory. Begin/End mark a transactionID in flight in this
// process, so two concurrent requests with one ID never both issue.
// Why a file and not the CA database: see docs/design/enrollment.md (CMP,
// "transactionID store"). Thread-safe.
#ifndef CERTVAULT_CA_CMP_CMP_TXN_STORE_H_
#define CERTVAULT_CA_CMP_CMP_TXN_STORE_H_

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "src/base/result.h"

namespace certvault::ca::cmp {

class TxnStore {
 public:
  // Open: reads DIR/cmp-transactions (absent: empty). kDataLoss for a malformed line.
  static Result<std::unique_ptr<TxnStore>> Open(const std::string& dir);
  // Find: the serial issued for `tid` (hex), or kNotFound.
  Result<std::string> Find(const std::string& tid);
  // Begin: kAlreadyExists when `tid` is in flight already; else marks it.
  Status Begin(const std::string& tid);
  // End: unmarks `tid`.
  void End(const std::string& tid);
  // Record: durably maps `tid` to `serial` (kUnavailable on an I/O error).
  Status Record(const std::string& tid, const std::string& serial, int64_t now);

 private:
  explicit TxnStore(std::string path) : path_(std::move(path)) {}
  std::string path_;
  std::mutex mu_;
  std::map<std::string, std::string> serials_;  // guarded by mu_
  std::set<std::string> in_flight_;             // guarded by mu_
};

}  // namespace certvault::ca::cmp

#endif  // CERTVAULT_CA_CMP_CMP_TXN_STORE_H_
