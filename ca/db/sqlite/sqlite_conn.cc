// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// SQLite driver for SqlConnection. Durability: journal_mode=WAL with
// synchronous=FULL, so a COMMIT has reached the disk when it returns (the
// WAL is fsynced at every commit). Batch issuance gets throughput by putting
// a whole batch into one transaction (group commit), not by weakening this.
#include <fcntl.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <map>

#include "ca/db/sql.h"
#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

class SqliteStatement final : public SqlStatement {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~SqliteStatement() override { sqlite3_finalize(stmt_); }
  void BindText(int i, std::string_view v) override {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void BindInt(int i, int64_t v) override { sqlite3_bind_int64(stmt_, i, v); }
  void BindBlob(int i, std::span<const uint8_t> v) override {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void BindNull(int i) override { sqlite3_bind_null(stmt_, i); }
  Result<bool> Step() override {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    if ((sqlite3_extended_errcode(db_) & 0xff) == SQLITE_CONSTRAINT) {
      return AlreadyExistsError(std::string("database constraint: ") + sqlite3_errmsg(db_));
    }
    if (rc == SQLITE_BUSY) return UnavailableError(std::string("database busy: ") + sqlite3_errmsg(db_));
    if ((sqlite3_extended_errcode(db_) & 0xff) == SQLITE_CORRUPT || rc == SQLITE_NOTADB) {
      return DataLossError(std::string("the CA database is damaged: ") + sqlite3_errmsg(db_));
    }
    return InternalError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  std::string Text(int c) const override {
    const unsigned char* p = sqlite3_column_text(stmt_, c);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, c));
  }
  std::string_view TextView(int c) const override {
    const unsigned char* p = sqlite3_column_text(stmt_, c);
    return p == nullptr ? std::string_view()
                        : std::string_view(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, c));
  }
  int64_t Int(int c) const override { return sqlite3_column_int64(stmt_, c); }
  Bytes Blob(int c) const override {
    const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, c));
    return p == nullptr ? Bytes() : Bytes(p, p + sqlite3_column_bytes(stmt_, c));
  }
  bool IsNull(int c) const override { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
  void Reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class SqliteConnection final : public SqlConnection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    cache_.clear();
    sqlite3_close_v2(db_);
  }
  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  Result<SqlStatement*> Prepare(const std::string& sql) override {
    auto it = cache_.find(sql);
    if (it != cache_.end()) {
      it->second->Reset();
      return it->second.get();
    }
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                           nullptr) != SQLITE_OK) {
      return InternalError(std::string("sqlite prepare: ") + sqlite3_errmsg(db_));
    }
    auto owned = std::make_unique<SqliteStatement>(db_, stmt);
    SqlStatement* raw = owned.get();
    cache_.emplace(sql, std::move(owned));
    return raw;
  }
  Status Exec(const std::string& sql) override {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err != nullptr ? err : "unknown error";
      sqlite3_free(err);
      int code = sqlite3_errcode(db_);
      if (code == SQLITE_BUSY) return UnavailableError("database busy: " + msg);
      if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) return DataLossError("the CA database is damaged: " + msg);
      return InternalError("sqlite: " + msg);
    }
    return OkStatus();
  }
  Status Begin() override { return Exec("BEGIN IMMEDIATE"); }
  Status Commit() override { return Exec("COMMIT"); }
  void Rollback() override { (void)Exec("ROLLBACK"); }

 private:
  sqlite3* db_;
  std::map<std::string, std::unique_ptr<SqliteStatement>> cache_;
};

// CreateFile0600: the database file exists before SQLite opens it, so it
// gets mode 0600 whatever the umask; SQLite gives the -wal and -shm files
// the database file's mode. An existing file is not opened: closing a
// descriptor of it would drop this process's SQLite locks on it.
Status CreateFile0600(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 && errno == EEXIST) return OkStatus();
  if (fd < 0) return UnavailableError("cannot create CA database " + path + ": " + std::strerror(errno));
  ::close(fd);
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<SqlConnection>> OpenSqlite(const std::string& path, bool create) {
  if (create) {
    CV_RETURN_IF_ERROR(CreateFile0600(path));
  } else {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      return FailedPreconditionError("no CA database " + path +
                                     ": only 'certvault-ca init' creates one; restore it from a backup");
    }
    // Checked before any PRAGMA: switching to WAL would write a header.
    if (st.st_size == 0) {
      return FailedPreconditionError("the CA database " + path +
                                     " is empty: only 'certvault-ca init' creates one; restore it from a backup");
    }
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return UnavailableError("cannot open CA database " + path + ": " + msg);
  }
  auto conn = std::make_unique<SqliteConnection>(db);
  sqlite3_busy_timeout(db, 10000);
  CV_RETURN_IF_ERROR(conn->Exec("PRAGMA journal_mode=WAL"));
  CV_RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous=FULL"));
  CV_RETURN_IF_ERROR(conn->Exec("PRAGMA foreign_keys=ON"));
  // 64 MiB page cache: the serial and status indexes of a million-certificate
  // CA stay in memory, so a revocation touches the disk only to commit.
  CV_RETURN_IF_ERROR(conn->Exec("PRAGMA cache_size=-65536"));
  // Reads through a memory map (pages the OS already caches cost no copy);
  // writes still go through the WAL with its fsyncs.
  CV_RETURN_IF_ERROR(conn->Exec("PRAGMA mmap_size=1073741824"));
  return std::unique_ptr<SqlConnection>(std::move(conn));
}

}  // namespace certvault::ca
