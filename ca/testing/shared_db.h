// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// SharedDb: a fresh CA database for unit tests that must hold on both
// backends (test-only): SQLite in a temporary directory, or a database of
// one private PostgreSQL server started on first use and kept for the
// test binary's lifetime (PgServer; each PostgreSQL SharedDb gets a new
// database of its own). The schema is created (OpenCertDb with create).
#ifndef CERTVAULT_CA_TESTING_SHARED_DB_H_
#define CERTVAULT_CA_TESTING_SHARED_DB_H_

#include <memory>
#include <string>

#include "src/base/result.h"

namespace certvault::ca::testing {

class SharedDb {
 public:
  // Create: kNotFound when `postgres` and PostgreSQL is not installed (skip).
  static Result<std::unique_ptr<SharedDb>> Create(bool postgres);
  ~SharedDb();
  // url: a CaConfig::database string; each OpenCertDb(url) is a new connection.
  const std::string& url() const { return url_; }
  // dir: a temporary directory (removed with the object).
  const std::string& dir() const { return dir_; }

 private:
  SharedDb() = default;
  std::string url_;
  std::string dir_;
};

}  // namespace certvault::ca::testing

#endif  // CERTVAULT_CA_TESTING_SHARED_DB_H_
