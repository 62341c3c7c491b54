// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The audit chain in the database (docs/formats/ca-audit.md): records are
// appended inside the transaction of the change they record, so a change
// and its record commit together or not at all, and the group commit of an
// issuance chunk carries its records in the same multi-row INSERTs as
// before. The head (audit_head, one row) is read once per transaction; on
// PostgreSQL it is row-locked (FOR UPDATE), which serializes appenders of
// concurrent processes; SQLite's BEGIN IMMEDIATE already does.
#include <algorithm>
#include <ctime>

#include "ca/db/audit_chain.h"
#include "ca/db/sql_cert_db.h"
#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

constexpr size_t kAuditRowsPerInsert = 64;
constexpr int kAuditColumns = 13;
constexpr const char* kAuditSelect =
    "SELECT at, actor, action, ca, object, detail, role, source, request_id, result, seq, prev_hash, hash "
    "FROM audit_events";

std::string AuditValues(size_t rows) {
  std::string out;
  for (size_t r = 0; r < rows; ++r) {
    out += r == 0 ? "(" : ", (";
    for (int c = 0; c < kAuditColumns; ++c) out += (c == 0 ? "?" : ", ?") + std::to_string(r * kAuditColumns + c + 1);
    out += ")";
  }
  return out;
}

AuditEvent ReadEvent(const SqlStatement& s) {
  AuditEvent e;
  e.at = s.Int(0);
  e.actor = s.Text(1);
  e.action = s.Text(2);
  e.ca = s.Text(3);
  e.object = s.Text(4);
  e.detail = s.Text(5);
  e.role = s.IsNull(6) ? "" : s.Text(6);
  e.source = s.IsNull(7) ? "" : s.Text(7);
  e.request_id = s.IsNull(8) ? "" : s.Text(8);
  e.result = s.IsNull(9) ? "" : s.Text(9);
  e.seq = s.IsNull(10) ? 0 : s.Int(10);
  if (!s.IsNull(11)) e.prev_hash = s.Blob(11);
  if (!s.IsNull(12)) e.hash = s.Blob(12);
  return e;
}

}  // namespace

AuditEvent MakeAuditEvent(const AuditActor& actor, std::string action, std::string ca, std::string object,
                          std::string detail, std::string result) {
  AuditEvent e;
  e.at = static_cast<int64_t>(std::time(nullptr));
  e.actor = actor.identity;
  e.role = actor.role;
  e.source = actor.source;
  e.request_id = actor.request_id;
  e.action = std::move(action);
  e.ca = std::move(ca);
  e.object = std::move(object);
  e.detail = std::move(detail);
  e.result = std::move(result);
  return e;
}

Status SqlCertDb::LockHead() {
  if (head_.loaded) return OkStatus();
  CV_ASSIGN_OR_RETURN(SqlStatement * init, conn_->Prepare("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, ?1) "
                                                          "ON CONFLICT (id) DO NOTHING"));
  init->BindBlob(1, AuditGenesis());
  CV_RETURN_IF_ERROR(init->Step().status());
  bool pg = conn_->dialect() == SqlDialect::kPostgres;
  CV_ASSIGN_OR_RETURN(SqlStatement * get, conn_->Prepare(pg ? "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"
                                                            : "SELECT seq, hash FROM audit_head WHERE id = 1"));
  CV_ASSIGN_OR_RETURN(bool row, get->Step());
  if (!row) return InternalError("audit_head row missing");
  head_.seq = get->Int(0);
  head_.hash = get->Blob(1);
  get->Reset();
  head_.loaded = true;
  return OkStatus();
}

Status SqlCertDb::SaveHead() {
  CV_ASSIGN_OR_RETURN(SqlStatement * up, conn_->Prepare("UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1"));
  up->BindInt(1, head_.seq);
  up->BindBlob(2, head_.hash);
  return up->Step().status();
}

Status SqlCertDb::InsertAudit(const AuditEvent& event) {
  return InsertAuditBatch(std::span<const AuditEvent>(&event, 1));
}

Status SqlCertDb::InsertAuditBatch(std::span<const AuditEvent> events) {
  if (!audit_enabled_) return OkStatus();
  CV_RETURN_IF_ERROR(LockHead());
  for (size_t begin = 0; begin < events.size(); begin += kAuditRowsPerInsert) {
    size_t n = std::min(kAuditRowsPerInsert, events.size() - begin);
    std::vector<AuditEvent> rows(events.begin() + begin, events.begin() + begin + n);
    for (AuditEvent& e : rows) {
      if (e.at == 0) e.at = static_cast<int64_t>(std::time(nullptr));
      e.seq = head_.seq + 1;
      e.prev_hash = head_.hash;
      e.hash = AuditRecordHash(e);
      if (e.hash.empty()) return InternalError("SHA-256 of an audit record failed");
      head_.seq = e.seq;
      head_.hash = e.hash;
    }
    CV_ASSIGN_OR_RETURN(SqlStatement * stmt,
                        conn_->Prepare("INSERT INTO audit_events (at, actor, action, ca, object, detail, role, source, "
                                       "request_id, result, seq, prev_hash, hash) VALUES " + AuditValues(n)));
    for (size_t i = 0; i < n; ++i) {
      const AuditEvent& e = rows[i];
      int b = static_cast<int>(i) * kAuditColumns;
      stmt->BindInt(b + 1, e.at);
      stmt->BindText(b + 2, e.actor);
      stmt->BindText(b + 3, e.action);
      stmt->BindText(b + 4, e.ca);
      stmt->BindText(b + 5, e.object);
      stmt->BindText(b + 6, e.detail);
      stmt->BindText(b + 7, e.role);
      stmt->BindText(b + 8, e.source);
      stmt->BindText(b + 9, e.request_id);
      stmt->BindText(b + 10, e.result);
      stmt->BindInt(b + 11, e.seq);
      stmt->BindBlob(b + 12, e.prev_hash);
      stmt->BindBlob(b + 13, e.hash);
    }
    CV_RETURN_IF_ERROR(stmt->Step().status());
    head_.appended += static_cast<int64_t>(n);
  }
  return OkStatus();
}

Status SqlCertDb::ReadAuditChain(int64_t from_seq, int64_t since,
                                 const std::function<Status(const AuditEvent&)>& fn) {
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt, conn_->Prepare(std::string(kAuditSelect) +
                                                          " WHERE seq >= ?1 AND at >= ?2 ORDER BY seq"));
  stmt->BindInt(1, from_seq);
  stmt->BindInt(2, since);
  while (true) {
    CV_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    Status st = fn(ReadEvent(*stmt));
    if (!st.ok()) {
      stmt->Reset();
      return st;
    }
  }
  return OkStatus();
}

Result<AuditChainState> SqlCertDb::ReadAuditState() {
  AuditChainState out;
  CV_ASSIGN_OR_RETURN(SqlStatement * head, conn_->Prepare("SELECT seq, hash FROM audit_head WHERE id = 1"));
  CV_ASSIGN_OR_RETURN(bool row, head->Step());
  if (row) {
    out.head_seq = head->Int(0);
    out.head_hash = head->Blob(1);
  } else {
    out.head_hash = AuditGenesis();
  }
  head->Reset();
  CV_ASSIGN_OR_RETURN(SqlStatement * cnt,
                      conn_->Prepare("SELECT (SELECT COUNT(*) FROM audit_events WHERE seq IS NULL AND id > "
                                     "(SELECT COALESCE(MIN(id), 0) FROM audit_events WHERE seq IS NOT NULL)), "
                                     "(SELECT COUNT(*) FROM audit_events WHERE seq IS NULL)"));
  CV_ASSIGN_OR_RETURN(row, cnt->Step());
  if (row) {
    out.unchained_after_start = cnt->Int(0);
    out.legacy_rows = cnt->Int(1);
  }
  cnt->Reset();
  return out;
}

Status SqlCertDb::StoreCheckpoint(const AuditCheckpoint& cp) {
  return InTransaction([&]() -> Status {
    CV_ASSIGN_OR_RETURN(SqlStatement * stmt,
                        conn_->Prepare("INSERT INTO audit_checkpoints (seq, at, hash, key_label, signature) "
                                       "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (seq) DO NOTHING"));
    stmt->BindInt(1, cp.seq);
    stmt->BindInt(2, cp.at);
    stmt->BindBlob(3, cp.hash);
    stmt->BindText(4, cp.key_label);
    stmt->BindBlob(5, cp.signature);
    return stmt->Step().status();
  });
}

Result<std::vector<AuditCheckpoint>> SqlCertDb::ListCheckpoints() {
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt, conn_->Prepare("SELECT seq, at, hash, key_label, signature FROM "
                                                          "audit_checkpoints ORDER BY seq"));
  std::vector<AuditCheckpoint> out;
  while (true) {
    CV_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back({stmt->Int(0), stmt->Int(1), stmt->Blob(2), stmt->Text(3), stmt->Blob(4)});
  }
  return out;
}

Result<std::vector<CertRecord>> SqlCertDb::RevocationRows(const std::string& ca, bool from_certificates) {
  const char* sql = from_certificates
                        ? "SELECT serial, revoked_at, reason, invalidity_date FROM certificates WHERE ca = ?1 "
                          "AND status = 'R'"
                        : "SELECT serial, revoked_at, reason, invalidity_date FROM revocations WHERE ca = ?1";
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt, conn_->Prepare(sql));
  stmt->BindText(1, ca);
  std::vector<CertRecord> out;
  while (true) {
    CV_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    CertRecord r;
    r.ca = ca;
    r.serial = stmt->Text(0);
    r.revoked = true;
    r.revoked_at = stmt->IsNull(1) ? 0 : stmt->Int(1);
    r.reason = stmt->IsNull(2) ? 0 : static_cast<int>(stmt->Int(2));
    r.invalidity_date = stmt->IsNull(3) ? 0 : stmt->Int(3);
    out.push_back(std::move(r));
  }
  return out;
}

Result<bool> SqlCertDb::HasRevokeRecord(const std::string& ca, const std::string& serial) {
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt, conn_->Prepare("SELECT COUNT(*) FROM audit_events WHERE action = 'revoke' "
                                                          "AND ca = ?1 AND object = ?2 AND result = 'ok'"));
  stmt->BindText(1, ca);
  stmt->BindText(2, serial);
  CV_ASSIGN_OR_RETURN(bool row, stmt->Step());
  bool found = row && stmt->Int(0) > 0;
  stmt->Reset();
  return found;
}

Status SqlCertDb::SetMeta(const std::string& key, const std::string& value) {
  return InTransaction([&]() -> Status {
    CV_ASSIGN_OR_RETURN(SqlStatement * stmt, conn_->Prepare("INSERT INTO ca_meta (name, value) VALUES (?1, ?2) "
                                                            "ON CONFLICT (name) DO UPDATE SET value = ?2"));
    stmt->BindText(1, key);
    stmt->BindText(2, value);
    return stmt->Step().status();
  });
}

}  // namespace certvault::ca
