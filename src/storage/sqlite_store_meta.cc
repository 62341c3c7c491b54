// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// SqliteStore: vault-wide values kept in the `meta` table.
#include "src/base/status_macros.h"
#include "src/storage/sqlite_store.h"

namespace certvault::storage::internal {

Result<int64_t> SqliteStore::RaiseTrustedTime(int64_t t) {
  int64_t stored = t;
  // One statement raises the value atomically across processes; the SELECT
  // in the same transaction returns what it is now.
  Status status = Write([&](Connection& conn) -> Status {
    {
      CV_ASSIGN_OR_RETURN(Stmt up, conn.Prepare("INSERT INTO meta(key, value) VALUES ('trusted_time', ?1) "
                                                "ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)"));
      CV_RETURN_IF_ERROR(up.BindInt(1, t));
      CV_RETURN_IF_ERROR(up.StepDone());
    }
    CV_ASSIGN_OR_RETURN(Stmt sel, conn.Prepare("SELECT value FROM meta WHERE key = 'trusted_time'"));
    CV_ASSIGN_OR_RETURN(bool row, sel.Step());
    if (!row) return InternalError("trusted_time vanished");
    stored = sel.ColumnInt(0);
    return OkStatus();
  });
  if (!status.ok()) return status;
  return stored;
}

Result<Bytes> SqliteStore::GetMetaRow(const std::string& key) {
  Bytes out;
  Status status = Read([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt sel, conn.Prepare("SELECT value FROM meta WHERE key = ?1"));
    CV_RETURN_IF_ERROR(sel.BindText(1, key));
    CV_ASSIGN_OR_RETURN(bool row, sel.Step());
    if (!row) return NotFoundError("no meta row " + key);
    out = sel.ColumnBlob(0);
    return OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

Status SqliteStore::PutMetaRow(const std::string& key, std::span<const uint8_t> value) {
  return Write([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt up, conn.Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)"));
    CV_RETURN_IF_ERROR(up.BindText(1, key));
    CV_RETURN_IF_ERROR(up.BindBlob(2, value));
    return up.StepDone();
  });
}

// The prefix test is written with substr so that '%' and '_' in a key are
// not wildcards.
Result<std::vector<std::pair<std::string, Bytes>>> SqliteStore::ListMetaRows(const std::string& prefix) {
  std::vector<std::pair<std::string, Bytes>> out;
  Status status = Read([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt sel, conn.Prepare("SELECT key, value FROM meta WHERE substr(key, 1, length(?1)) = ?1 "
                                               "ORDER BY key"));
    CV_RETURN_IF_ERROR(sel.BindText(1, prefix));
    for (;;) {
      CV_ASSIGN_OR_RETURN(bool row, sel.Step());
      if (!row) return OkStatus();
      out.emplace_back(sel.ColumnText(0), sel.ColumnBlob(1));
    }
  });
  if (!status.ok()) return status;
  return out;
}

Status SqliteStore::DeleteMetaRows(const std::string& prefix) {
  return Write([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt del, conn.Prepare("DELETE FROM meta WHERE substr(key, 1, length(?1)) = ?1"));
    CV_RETURN_IF_ERROR(del.BindText(1, prefix));
    return del.StepDone();
  });
}

namespace {

Status RunBound(Connection& conn, const std::string& sql, const std::string& text, TokenId id) {
  CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare(sql));
  if (!text.empty()) CV_RETURN_IF_ERROR(stmt.BindText(1, text));
  if (text.empty()) CV_RETURN_IF_ERROR(stmt.BindU64(1, id));
  return stmt.StepDone();
}

}  // namespace

Status SqliteStore::ZeroizeToken(TokenId id) {
  const std::string tid = std::to_string(id);
  Status status = Write([&](Connection& conn) -> Status {
    // secure_delete: SQLite overwrites deleted content with zeros instead of
    // leaving it in free pages (https://sqlite.org/pragma.html#pragma_secure_delete).
    CV_RETURN_IF_ERROR(conn.Exec("PRAGMA secure_delete = ON"));
    CV_RETURN_IF_ERROR(RunBound(conn, "UPDATE auth SET wrapped_key = zeroblob(length(wrapped_key)) "
                                      "WHERE token_id = ?1", "", id));
    CV_RETURN_IF_ERROR(RunBound(conn, "UPDATE audit_keys SET sealed_private = zeroblob(length(sealed_private)) "
                                      "WHERE token_id = ?1", "", id));
    CV_RETURN_IF_ERROR(RunBound(conn, "DELETE FROM meta WHERE substr(key, 1, length(?1)) = ?1", "auth/" + tid + "/", 0));
    CV_RETURN_IF_ERROR(RunBound(conn, "DELETE FROM meta WHERE substr(key, 1, length(?1)) = ?1", "quorum/" + tid + "/", 0));
    CV_RETURN_IF_ERROR(RunBound(conn, "DELETE FROM tokens WHERE token_id = ?1", "", id));
    if (conn.Changes() == 0) return NotFoundError("no token " + tid);
    return OkStatus();
  });
  CV_RETURN_IF_ERROR(status);
  // Old page images live on in the WAL until it is checkpointed: copy the
  // zeroed pages into the database file and truncate the WAL to 0 bytes.
  return Read([](Connection& conn) -> Status {
    (void)conn.Exec("PRAGMA secure_delete = ON");
    return conn.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  });
}

Status SqliteStore::PurgeToken(TokenId id) {
  const std::string tid = std::to_string(id);
  return Write([&](Connection& conn) -> Status {
    for (const char* table : {"event_log", "event_checkpoints", "audit_keys"}) {
      CV_RETURN_IF_ERROR(RunBound(conn, std::string("DELETE FROM ") + table + " WHERE token_id = ?1", "", id));
    }
    CV_RETURN_IF_ERROR(RunBound(conn, "DELETE FROM meta WHERE substr(key, 1, length(?1)) = ?1", "auth/" + tid + "/", 0));
    CV_RETURN_IF_ERROR(RunBound(conn, "DELETE FROM meta WHERE substr(key, 1, length(?1)) = ?1", "quorum/" + tid + "/", 0));
    CV_RETURN_IF_ERROR(RunBound(conn, "DELETE FROM tokens WHERE token_id = ?1", "", id));
    if (conn.Changes() == 0) return NotFoundError("no token " + tid);
    return OkStatus();
  });
}

}  // namespace certvault::storage::internal
