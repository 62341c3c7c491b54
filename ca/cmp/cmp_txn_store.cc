// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/cmp/cmp_txn_store.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "src/base/status_macros.h"

namespace certvault::ca::cmp {

Status ImportLegacyTxnFile(const std::string& dir, CertDb& db, const std::string& ca) {
  std::string path = dir + "/cmp-transactions";
  std::ifstream in(path);
  if (!in) return OkStatus();  // none, or already imported
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string tid, serial;
    int64_t when = 0;
    if (!(fields >> tid >> serial >> when)) return DataLossError("cmp-transactions: malformed line");
    CV_RETURN_IF_ERROR(db.ImportCmpTransaction(ca, tid, serial, when).Annotate("importing " + path));
  }
  // Two processes on one directory may both import (idempotent); one renames.
  if (std::rename(path.c_str(), (path + ".imported").c_str()) != 0 && access(path.c_str(), F_OK) == 0) {
    return UnavailableError("cannot rename " + path + " after importing it");
  }
  return OkStatus();
}

}  // namespace certvault::ca::cmp
