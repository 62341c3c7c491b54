// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Internal SQLite helpers of the store: RAII owners for sqlite3* and
// sqlite3_stmt*, a Connection that prepares each statement once and caches
// it, and the mapping of SQLite result codes to Status.
#ifndef CERTVAULT_STORAGE_SQLITE_UTIL_H_
#define CERTVAULT_STORAGE_SQLITE_UTIL_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/status.h"

namespace certvault::storage::internal {

struct SqliteDbDeleter {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct SqliteStmtDeleter {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using DbPtr = std::unique_ptr<sqlite3, SqliteDbDeleter>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, SqliteStmtDeleter>;

// SqliteStatus: maps an SQLite result code (extended codes allowed) to a
// Status whose message is "`what`: <sqlite message>":
//   CORRUPT, NOTADB           -> kDataLoss / kCorruptStore
//   FULL                      -> kResourceExhausted / kDeviceMemory
//   IOERR, CANTOPEN, PERM, READONLY -> kUnavailable / kDeviceError
//   CONSTRAINT_PRIMARYKEY/UNIQUE -> kAlreadyExists; CONSTRAINT_FOREIGNKEY -> kNotFound
//   BUSY, LOCKED              -> kUnavailable; NOMEM -> kHostMemory
// `db` may be null (then the generic text of `rc` is used).
Status SqliteStatus(int rc, sqlite3* db, std::string_view what);

// Stmt: a cached statement checked out for one use. The destructor resets it
// and clears its bindings, so the cache always holds idle statements.
// REQUIRES: used on one thread; does not outlive its Connection.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Stmt();
  Stmt(Stmt&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Bind*: 1-based parameter index. uint64 values are stored as their
  // two's-complement int64 (SQLite INTEGER is signed).
  Status BindInt(int index, int64_t value);
  Status BindU64(int index, uint64_t value) { return BindInt(index, static_cast<int64_t>(value)); }
  // BindBlob: an empty span binds an empty blob (not NULL).
  Status BindBlob(int index, std::span<const uint8_t> value);
  Status BindText(int index, std::string_view value);

  // Step: true when a row is available, false when the statement is done.
  Result<bool> Step();
  // StepDone: runs a statement that returns no rows.
  Status StepDone();
  // StepRc: one sqlite3_step, returning its raw result code.
  int StepRc() { return sqlite3_step(stmt_); }

  int64_t ColumnInt(int col) const { return sqlite3_column_int64(stmt_, col); }
  uint64_t ColumnU64(int col) const { return static_cast<uint64_t>(ColumnInt(col)); }
  Bytes ColumnBlob(int col) const;
  std::string ColumnText(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// Connection: one sqlite3 handle with its statement cache. Not thread-safe:
// the store hands each connection to one thread at a time.
class Connection {
 public:
  // Open: opens an existing file read-write (never creates it), checks its
  // header through SQLite's own file handle (CheckFileHeader) and applies
  // the per-connection settings: busy_timeout, synchronous=FULL,
  // foreign_keys=ON, secure_delete. kUnavailable/kDeviceError if it cannot
  // be opened, kCorruptStore if it is no SQLite file.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, int busy_timeout_ms);

  // Prepare: the cached statement for `sql` (prepared on first use).
  Result<Stmt> Prepare(const std::string& sql);
  // Exec: runs `sql` (no bindings, results ignored). A single statement (no
  // ';') is prepared once and cached; a script runs through sqlite3_exec.
  Status Exec(const char* sql);
  // ExecRc: Exec returning the raw SQLite result code (SQLITE_OK on success).
  int ExecRc(const char* sql);
  // Changes: rows modified by the last INSERT/UPDATE/DELETE.
  int64_t Changes() const { return sqlite3_changes64(db_.get()); }
  sqlite3* db() const { return db_.get(); }

 private:
  explicit Connection(DbPtr db) : db_(std::move(db)) {}
  DbPtr db_;
  // Declared after db_ so the statements are finalized before the handle closes.
  std::unordered_map<std::string, StmtPtr> cache_;
};

}  // namespace certvault::storage::internal

#endif  // CERTVAULT_STORAGE_SQLITE_UTIL_H_
