// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/testing/shared_db.h"

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>

#include "ca/db/cert_db.h"
#include "ca/db/sql.h"
#include "ca/testing/pg_server.h"
#include "src/base/status_macros.h"

namespace certvault::ca::testing {
namespace {

// Server: the one PostgreSQL server of this process (started on first use).
Result<PgServer*> Server() {
  static std::mutex mu;
  static std::unique_ptr<PgServer> server;
  static Status failed = OkStatus();
  std::lock_guard<std::mutex> lock(mu);
  if (server == nullptr && failed.ok()) {
    auto started = PgServer::Start();
    if (!started.ok()) {
      failed = started.status();
    } else {
      server = std::move(*started);
    }
  }
  if (!failed.ok()) return failed;
  return server.get();
}

}  // namespace

Result<std::unique_ptr<SharedDb>> SharedDb::Create(bool postgres) {
  std::unique_ptr<SharedDb> db(new SharedDb());
  char tmpl[] = "/tmp/cv-ca-shared.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return UnavailableError("mkdtemp failed");
  db->dir_ = tmpl;
  if (!postgres) {
    db->url_ = "sqlite:" + db->dir_ + "/ca.db";
  } else {
    CV_ASSIGN_OR_RETURN(PgServer * server, Server());
    static std::atomic<int> next{0};
    std::string name = "shared" + std::to_string(getpid()) + "_" + std::to_string(next++);
    CV_ASSIGN_OR_RETURN(std::unique_ptr<SqlConnection> admin, OpenPostgres(server->conninfo()));
    CV_RETURN_IF_ERROR(admin->Exec("CREATE DATABASE " + name));  // a generated identifier, never input
    db->url_ = server->conninfo();
    db->url_.replace(db->url_.find("dbname=ca"), 9, "dbname=" + name);
  }
  CV_RETURN_IF_ERROR(OpenCertDb(db->url_, {true, ""}).status());
  return db;
}

SharedDb::~SharedDb() {
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

}  // namespace certvault::ca::testing
