// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/storage/sqlite_schema.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "src/base/status_macros.h"

namespace certvault::storage::internal {
namespace {

constexpr size_t kSqliteHeaderSize = 100;
constexpr char kSqliteMagic[] = "SQLite format 3";  // 16 bytes with the NUL

// Schema version 1 (docs/formats/store.md). Never edit a released version:
// add a migration instead.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value);
CREATE TABLE tokens(
  token_id INTEGER PRIMARY KEY,
  label TEXT NOT NULL, serial TEXT NOT NULL, flags INTEGER NOT NULL,
  capacity INTEGER NOT NULL, policy BLOB NOT NULL, created_unix INTEGER NOT NULL);
CREATE TABLE auth(
  token_id INTEGER NOT NULL REFERENCES tokens(token_id) ON DELETE CASCADE,
  role INTEGER NOT NULL, kdf BLOB NOT NULL, wrapped_key BLOB NOT NULL,
  tries_left INTEGER NOT NULL, max_tries INTEGER NOT NULL, flags INTEGER NOT NULL,
  PRIMARY KEY(token_id, role)) WITHOUT ROWID;
CREATE TABLE objects(
  object_id INTEGER PRIMARY KEY,
  token_id INTEGER NOT NULL REFERENCES tokens(token_id) ON DELETE CASCADE,
  class INTEGER NOT NULL, label BLOB NOT NULL, ckid BLOB NOT NULL,
  is_private INTEGER NOT NULL, version INTEGER NOT NULL, record BLOB NOT NULL);
CREATE INDEX objects_token_label ON objects(token_id, label);
CREATE INDEX objects_token_ckid ON objects(token_id, ckid);
CREATE INDEX objects_token_class ON objects(token_id, class);
INSERT INTO meta(key, value) VALUES ('vault_id', randomblob(16));
)sql";

// Schema version 2: the token's integrity state (docs/formats/integrity.md).
// Existing tokens get an empty one, upgraded by the core at the next login.
constexpr char kSchemaV2[] = R"sql(
ALTER TABLE tokens ADD COLUMN integrity BLOB NOT NULL DEFAULT x'';
)sql";

// Schema version 3: the event log (docs/formats/event-log.md). No foreign
// key to `tokens`: a token's log outlives its re-initialization.
constexpr char kSchemaV3[] = R"sql(
CREATE TABLE event_log(
  token_id INTEGER NOT NULL, seq INTEGER NOT NULL, time_ms INTEGER NOT NULL,
  role TEXT NOT NULL, mode TEXT NOT NULL, peer_uid INTEGER NOT NULL, peer_pid INTEGER NOT NULL,
  peer_exe TEXT NOT NULL, action TEXT NOT NULL, target_id INTEGER NOT NULL, target_label TEXT NOT NULL,
  result TEXT NOT NULL, detail TEXT NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL,
  PRIMARY KEY(token_id, seq)) WITHOUT ROWID;
CREATE TABLE event_checkpoints(
  token_id INTEGER NOT NULL, seq INTEGER NOT NULL, time_ms INTEGER NOT NULL, key_no INTEGER NOT NULL,
  head BLOB NOT NULL, signature BLOB NOT NULL,
  PRIMARY KEY(token_id, seq)) WITHOUT ROWID;
CREATE TABLE audit_keys(
  token_id INTEGER NOT NULL, key_no INTEGER NOT NULL, public_key BLOB NOT NULL,
  sealed_private BLOB NOT NULL, created_ms INTEGER NOT NULL,
  PRIMARY KEY(token_id, key_no)) WITHOUT ROWID;
)sql";

// Migration: the SQL that takes schema `to_version - 1` to `to_version`.
struct Migration {
  int64_t to_version;
  const char* sql;
};
constexpr Migration kMigrations[] = {
    {1, kSchemaV1},
    {2, kSchemaV2},
    {3, kSchemaV3},
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion,
              "one migration per schema version");

Status NotCertvault(std::string_view why) {
  return Status(Reason::kCorruptStore, std::string("not a certvault database: ") + std::string(why));
}

Result<int64_t> QueryInt(Connection& conn, const std::string& sql) {
  CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare(sql));
  CV_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return NotFoundError("no row");
  return stmt.ColumnInt(0);
}

// ReadSchemaVersion: 0 for an empty database.
Result<int64_t> ReadSchemaVersion(Connection& conn) {
  CV_ASSIGN_OR_RETURN(int64_t objects, QueryInt(conn, "SELECT count(*) FROM sqlite_schema"));
  if (objects == 0) return int64_t{0};
  CV_ASSIGN_OR_RETURN(int64_t tables,
                      QueryInt(conn,
                               "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
                               "('meta', 'tokens', 'auth', 'objects')"));
  if (tables != 4) return NotCertvault("certvault tables missing");
  Result<int64_t> version = QueryInt(conn, "SELECT value FROM meta WHERE key = 'schema_version'");
  if (!version.ok() && version.status().code() == StatusCode::kNotFound) {
    return NotCertvault("no schema_version");
  }
  if (version.ok() && *version <= 0) return NotCertvault("bad schema_version");
  return version;
}

Status CheckNotNewer(int64_t version) {
  if (version <= kSchemaVersion) return OkStatus();
  return Status(StatusCode::kFailedPrecondition, Reason::kTokenNotRecognized,
                "store schema version " + std::to_string(version) + " is newer than the supported version " +
                    std::to_string(kSchemaVersion) + "; upgrade certvault");
}

Status EnableWal(Connection& conn) {
  {
    // Scoped: the statement must be reset (ending its read) before the change.
    CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("PRAGMA journal_mode"));
    CV_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row && stmt.ColumnText(0) == "wal") return OkStatus();
  }
  // Persistent in the file; cannot run inside a transaction.
  return conn.Exec("PRAGMA journal_mode=WAL");
}

// MigrateLocked: REQUIRES: inside BEGIN IMMEDIATE.
Status MigrateLocked(Connection& conn, bool create) {
  CV_ASSIGN_OR_RETURN(int64_t version, ReadSchemaVersion(conn));
  CV_RETURN_IF_ERROR(CheckNotNewer(version));
  if (version == 0 && !create) return NotCertvault("empty database");
  for (const Migration& m : kMigrations) {
    if (m.to_version <= version) continue;
    CV_RETURN_IF_ERROR(conn.Exec(m.sql));
  }
  if (version == kSchemaVersion) return OkStatus();
  CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?1)"));
  CV_RETURN_IF_ERROR(stmt.BindInt(1, kSchemaVersion));
  return stmt.StepDone();
}

}  // namespace

Status CheckFileHeader(Connection& conn, const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    return Status(StatusCode::kUnavailable, Reason::kDeviceError, std::string("cannot read store: ") + std::strerror(errno));
  }
  if (st.st_size == 0) return OkStatus();  // a new database
  if (static_cast<size_t>(st.st_size) < kSqliteHeaderSize) return NotCertvault("file too short for a SQLite header");
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(conn.db(), "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || file == nullptr ||
      file->pMethods == nullptr) {
    return Status(StatusCode::kUnavailable, Reason::kDeviceError, "cannot read store header");
  }
  char header[kSqliteHeaderSize];
  if (file->pMethods->xRead(file, header, sizeof(header), 0) != SQLITE_OK) {
    return Status(StatusCode::kUnavailable, Reason::kDeviceError, "cannot read store header");
  }
  if (std::memcmp(header, kSqliteMagic, sizeof(kSqliteMagic)) != 0) {
    return NotCertvault("not a SQLite database (bad file header)");
  }
  return OkStatus();
}

Status EnsureSchema(Connection& conn, bool create) {
  CV_ASSIGN_OR_RETURN(int64_t version, ReadSchemaVersion(conn));
  CV_RETURN_IF_ERROR(CheckNotNewer(version));
  if (version == 0 && !create) return NotCertvault("empty database");
  CV_RETURN_IF_ERROR(EnableWal(conn));
  if (version == kSchemaVersion) return OkStatus();
  CV_RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE"));
  Status s = MigrateLocked(conn, create);
  if (s.ok()) s = conn.Exec("COMMIT");
  if (!s.ok()) (void)conn.Exec("ROLLBACK");
  return s.Annotate("schema migration");
}

Status CheckIntegrity(Connection& conn) {
  CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("PRAGMA integrity_check(1)"));
  CV_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Status(Reason::kCorruptStore, "integrity_check returned nothing");
  std::string result = stmt.ColumnText(0);
  if (result == "ok") return OkStatus();
  return Status(Reason::kCorruptStore, "store integrity check failed: " + result);
}

}  // namespace certvault::storage::internal
