// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// SqliteStore: the event log, its checkpoints and audit keys (schema version
// 3, docs/formats/event-log.md). Plain rows: the chain and the signatures are
// computed and checked by src/audit.
#include <string>

#include "src/base/status_macros.h"
#include "src/storage/sqlite_store.h"

namespace certvault::storage::internal {
namespace {

constexpr char kEventColumns[] =
    "SELECT token_id, seq, time_ms, role, mode, peer_uid, peer_pid, peer_exe, action, target_id, target_label, "
    "result, detail, prev_hash, hash FROM event_log";

EventRow ReadEventRow(const Stmt& stmt) {
  EventRow row;
  row.token_id = stmt.ColumnU64(0);
  row.seq = stmt.ColumnU64(1);
  row.time_ms = stmt.ColumnInt(2);
  row.role = stmt.ColumnText(3);
  row.mode = stmt.ColumnText(4);
  row.peer_uid = stmt.ColumnInt(5);
  row.peer_pid = stmt.ColumnInt(6);
  row.peer_exe = stmt.ColumnText(7);
  row.action = stmt.ColumnText(8);
  row.target_id = stmt.ColumnU64(9);
  row.target_label = stmt.ColumnText(10);
  row.result = stmt.ColumnText(11);
  row.detail = stmt.ColumnText(12);
  row.prev_hash = stmt.ColumnBlob(13);
  row.hash = stmt.ColumnBlob(14);
  return row;
}

Status BindEventRow(Stmt& stmt, const EventRow& row) {
  CV_RETURN_IF_ERROR(stmt.BindU64(1, row.token_id));
  CV_RETURN_IF_ERROR(stmt.BindU64(2, row.seq));
  CV_RETURN_IF_ERROR(stmt.BindInt(3, row.time_ms));
  CV_RETURN_IF_ERROR(stmt.BindText(4, row.role));
  CV_RETURN_IF_ERROR(stmt.BindText(5, row.mode));
  CV_RETURN_IF_ERROR(stmt.BindInt(6, row.peer_uid));
  CV_RETURN_IF_ERROR(stmt.BindInt(7, row.peer_pid));
  CV_RETURN_IF_ERROR(stmt.BindText(8, row.peer_exe));
  CV_RETURN_IF_ERROR(stmt.BindText(9, row.action));
  CV_RETURN_IF_ERROR(stmt.BindU64(10, row.target_id));
  CV_RETURN_IF_ERROR(stmt.BindText(11, row.target_label));
  CV_RETURN_IF_ERROR(stmt.BindText(12, row.result));
  CV_RETURN_IF_ERROR(stmt.BindText(13, row.detail));
  CV_RETURN_IF_ERROR(stmt.BindBlob(14, row.prev_hash));
  return stmt.BindBlob(15, row.hash);
}

}  // namespace

Result<EventRow> SqliteStore::LastEvent(TokenId id) {
  EventRow out;
  Status status = Read([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt stmt,
                        conn.Prepare(std::string(kEventColumns) + " WHERE token_id = ?1 ORDER BY seq DESC LIMIT 1"));
    CV_RETURN_IF_ERROR(stmt.BindU64(1, id));
    CV_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return NotFoundError("token " + std::to_string(id) + " has no events");
    out = ReadEventRow(stmt);
    return OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

Status SqliteStore::InsertEvent(const EventRow& row) {
  return Write([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("INSERT INTO event_log(token_id, seq, time_ms, role, mode, peer_uid, "
                                                "peer_pid, peer_exe, action, target_id, target_label, result, detail, "
                                                "prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                                                "?11, ?12, ?13, ?14, ?15)"));
    CV_RETURN_IF_ERROR(BindEventRow(stmt, row));
    return stmt.StepDone();
  });
}

Status SqliteStore::ForEachEvent(TokenId id, const std::function<Status(const EventRow&)>& fn) {
  return Read([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare(std::string(kEventColumns) + " WHERE token_id = ?1 ORDER BY seq"));
    CV_RETURN_IF_ERROR(stmt.BindU64(1, id));
    for (;;) {
      CV_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return OkStatus();
      CV_RETURN_IF_ERROR(fn(ReadEventRow(stmt)));
    }
  });
}

Status SqliteStore::InsertCheckpoint(const CheckpointRow& row) {
  return Write([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("INSERT INTO event_checkpoints(token_id, seq, time_ms, key_no, head, "
                                                "signature) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    CV_RETURN_IF_ERROR(stmt.BindU64(1, row.token_id));
    CV_RETURN_IF_ERROR(stmt.BindU64(2, row.seq));
    CV_RETURN_IF_ERROR(stmt.BindInt(3, row.time_ms));
    CV_RETURN_IF_ERROR(stmt.BindInt(4, row.key_no));
    CV_RETURN_IF_ERROR(stmt.BindBlob(5, row.head));
    CV_RETURN_IF_ERROR(stmt.BindBlob(6, row.signature));
    return stmt.StepDone();
  });
}

Result<std::vector<CheckpointRow>> SqliteStore::ListCheckpoints(TokenId id) {
  std::vector<CheckpointRow> out;
  Status status = Read([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("SELECT seq, time_ms, key_no, head, signature FROM event_checkpoints "
                                                "WHERE token_id = ?1 ORDER BY seq"));
    CV_RETURN_IF_ERROR(stmt.BindU64(1, id));
    for (;;) {
      CV_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return OkStatus();
      out.push_back(CheckpointRow{id, stmt.ColumnU64(0), stmt.ColumnInt(1), static_cast<uint32_t>(stmt.ColumnInt(2)),
                                  stmt.ColumnBlob(3), stmt.ColumnBlob(4)});
    }
  });
  if (!status.ok()) return status;
  return out;
}

Status SqliteStore::InsertAuditKey(const AuditKeyRow& row) {
  return Write([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("INSERT INTO audit_keys(token_id, key_no, public_key, sealed_private, "
                                                "created_ms) VALUES (?1, ?2, ?3, ?4, ?5)"));
    CV_RETURN_IF_ERROR(stmt.BindU64(1, row.token_id));
    CV_RETURN_IF_ERROR(stmt.BindInt(2, row.key_no));
    CV_RETURN_IF_ERROR(stmt.BindBlob(3, row.public_key));
    CV_RETURN_IF_ERROR(stmt.BindBlob(4, row.sealed_private));
    CV_RETURN_IF_ERROR(stmt.BindInt(5, row.created_ms));
    return stmt.StepDone();
  });
}

Result<std::vector<AuditKeyRow>> SqliteStore::ListAuditKeys(TokenId id) {
  std::vector<AuditKeyRow> out;
  Status status = Read([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("SELECT key_no, public_key, sealed_private, created_ms FROM audit_keys "
                                                "WHERE token_id = ?1 ORDER BY key_no"));
    CV_RETURN_IF_ERROR(stmt.BindU64(1, id));
    for (;;) {
      CV_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return OkStatus();
      out.push_back(AuditKeyRow{id, static_cast<uint32_t>(stmt.ColumnInt(0)), stmt.ColumnBlob(1), stmt.ColumnBlob(2),
                                stmt.ColumnInt(3)});
    }
  });
  if (!status.ok()) return status;
  return out;
}

}  // namespace certvault::storage::internal
