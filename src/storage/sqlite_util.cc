// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/storage/sqlite_util.h"

#include <cstring>

#include <string>

#include "src/base/status_macros.h"
#include "src/storage/sqlite_schema.h"

namespace certvault::storage::internal {
namespace {

Status MapConstraint(int rc, const std::string& msg) {
  switch (rc) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_ROWID:
      return AlreadyExistsError(msg);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return NotFoundError(msg);
    default:
      return InvalidArgumentError(msg);
  }
}

}  // namespace

Status SqliteStatus(int rc, sqlite3* db, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += (db != nullptr && sqlite3_extended_errcode(db) == rc) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return InternalError(msg + " (unexpected success code)");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status(Reason::kCorruptStore, msg);
    case SQLITE_FULL:
      return Status(Reason::kDeviceMemory, msg);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
      return Status(StatusCode::kUnavailable, Reason::kDeviceError, msg);
    case SQLITE_CONSTRAINT:
      return MapConstraint(rc, msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return UnavailableError(msg);
    case SQLITE_NOMEM:
      return Status(Reason::kHostMemory, msg);
    default:
      return Status(StatusCode::kInternal, Reason::kFunctionFailed, msg);
  }
}

Stmt::~Stmt() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Status Stmt::BindInt(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  return rc == SQLITE_OK ? OkStatus() : SqliteStatus(rc, db_, "sqlite3_bind_int64");
}

Status Stmt::BindBlob(int index, std::span<const uint8_t> value) {
  // sqlite3_bind_blob with a null pointer binds NULL; an empty blob is wanted.
  int rc = value.empty() ? sqlite3_bind_zeroblob(stmt_, index, 0)
                         : sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT);
  return rc == SQLITE_OK ? OkStatus() : SqliteStatus(rc, db_, "sqlite3_bind_blob");
}

Status Stmt::BindText(int index, std::string_view value) {
  int rc = sqlite3_bind_text64(stmt_, index, value.empty() ? "" : value.data(), value.size(), SQLITE_TRANSIENT,
                               SQLITE_UTF8);
  return rc == SQLITE_OK ? OkStatus() : SqliteStatus(rc, db_, "sqlite3_bind_text");
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteStatus(rc, db_, "sqlite3_step");
}

Status Stmt::StepDone() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_DONE) return OkStatus();
  if (rc == SQLITE_ROW) return InternalError("statement unexpectedly returned a row");
  return SqliteStatus(rc, db_, "sqlite3_step");
}

Bytes Stmt::ColumnBlob(int col) const {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, col));
  int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return Bytes();
  return Bytes(p, p + n);
}

std::string Stmt::ColumnText(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return std::string();
  return std::string(p, static_cast<size_t>(n));
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  DbPtr db(raw);  // sqlite3_open_v2 may return a handle even on failure
  if (rc != SQLITE_OK) return SqliteStatus(rc, db.get(), "cannot open store");
  sqlite3_extended_result_codes(db.get(), 1);
  rc = sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  if (rc != SQLITE_OK) return SqliteStatus(rc, db.get(), "sqlite3_busy_timeout");
  std::unique_ptr<Connection> conn(new Connection(std::move(db)));
  CV_RETURN_IF_ERROR(CheckFileHeader(*conn, path));  // before any statement reads the file
  // synchronous=FULL: in WAL mode every commit is fsync'ed, so an
  // acknowledged write survives power loss (NORMAL only survives a crash).
  CV_RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"));
  // secure_delete: freed cells and pages are zeroed, so a replaced record or a
  // destroyed key's sealed material leaves no copy in the file. Set here, not
  // left to how the system's SQLite was built.
  CV_RETURN_IF_ERROR(conn->Exec("PRAGMA secure_delete=ON;"));
  // Lookups are the hot path: a 16 MiB page cache per connection (default 2)
  // keeps the object indexes of a large vault in memory. No mmap: a file
  // truncated under a mapping raises SIGBUS, and the store must never crash.
  CV_RETURN_IF_ERROR(conn->Exec("PRAGMA mmap_size=0; PRAGMA cache_size=-16384;"));
  return conn;
}

Result<Stmt> Connection::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v3(db_.get(), sql.c_str(), static_cast<int>(sql.size() + 1),
                                SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    StmtPtr stmt(raw);
    if (rc != SQLITE_OK) return SqliteStatus(rc, db_.get(), "sqlite3_prepare");
    if (stmt == nullptr) return InternalError("empty SQL statement");
    it = cache_.emplace(sql, std::move(stmt)).first;
  }
  return Stmt(db_.get(), it->second.get());
}

int Connection::ExecRc(const char* sql) {
  // One statement runs from the cache: transaction control (BEGIN, COMMIT,
  // SAVEPOINT ...) is on every write's path and is not worth re-parsing.
  if (std::strchr(sql, ';') == nullptr) {
    Result<Stmt> stmt = Prepare(sql);
    if (!stmt.ok()) return sqlite3_errcode(db_.get());
    int rc = stmt->StepRc();
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
  }
  return sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
}

Status Connection::Exec(const char* sql) {
  int rc = ExecRc(sql);
  return rc == SQLITE_OK ? OkStatus() : SqliteStatus(rc, db_.get(), "sqlite3_exec");
}

}  // namespace certvault::storage::internal
