// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// PgServer: a private PostgreSQL server for the CA's unit tests (test-only):
// initdb into a temporary directory, pg_ctl start on a free local port with
// the unix socket in that directory and TCP off (listen_addresses=''), and a
// database "ca". Run as root, the server runs as the postgres user (it
// refuses root). The destructor stops it (immediate) and removes the
// directory. Same conventions as tests/ca/ca_lib.sh.
#ifndef CERTVAULT_CA_TESTING_PG_SERVER_H_
#define CERTVAULT_CA_TESTING_PG_SERVER_H_

#include <memory>
#include <string>

#include "src/base/result.h"

namespace certvault::ca::testing {

class PgServer {
 public:
  // Start: kNotFound when the PostgreSQL server binaries are not installed
  // (the caller skips), kUnavailable when the server does not come up.
  static Result<std::unique_ptr<PgServer>> Start();
  ~PgServer();
  // conninfo: a libpq connection string for the "ca" database.
  const std::string& conninfo() const { return conninfo_; }

 private:
  PgServer() = default;
  std::string bin_;
  std::string dir_;
  std::string conninfo_;
  bool running_ = false;
};

}  // namespace certvault::ca::testing

#endif  // CERTVAULT_CA_TESTING_PG_SERVER_H_
