// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Revocations and CRLs. Revoking touches two indexed rows per certificate
// (the certificate's status and one revocations row) and nothing else: CRLs
// are built later from the revocations table alone (ca, id index).
#include <ctime>

#include "ca/db/audit_chain.h"
#include "ca/db/sql_cert_db.h"
#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

// Full and delta CRLs share one number sequence, so 2 * kKeptCrls numbers
// back covers at least kKeptCrls of each kind.
constexpr int64_t kKeptCrls = 4;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// DecodeSerial: even-length hex of 1..21 octets into the fixed array.
bool DecodeSerial(std::string_view hex, RevokedEntry& e) {
  if (hex.empty() || hex.size() % 2 != 0 || hex.size() > 2 * e.serial.size()) return false;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]), lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    e.serial[i / 2] = static_cast<uint8_t>(hi << 4 | lo);
  }
  e.serial_len = static_cast<uint8_t>(hex.size() / 2);
  return true;
}

}  // namespace

Status SqlCertDb::RevokeOne(const std::string& ca, const Revocation& r, int64_t now, const AuditActor& actor) {
  CV_ASSIGN_OR_RETURN(SqlStatement * find,
                      conn_->Prepare("SELECT status, not_after FROM certificates WHERE ca = ?1 AND serial = ?2"));
  find->BindText(1, ca);
  find->BindText(2, r.serial);
  CV_ASSIGN_OR_RETURN(bool row, find->Step());
  if (!row) return NotFoundError("no certificate with serial " + r.serial + " issued by " + ca);
  bool already = find->Text(0) == "R";
  int64_t not_after = find->Int(1);
  find->Reset();
  if (already) return FailedPreconditionError("certificate " + r.serial + " is already revoked");
  CV_ASSIGN_OR_RETURN(SqlStatement * upd,
                      conn_->Prepare("UPDATE certificates SET status = 'R', revoked_at = ?1, reason = ?2, "
                                     "invalidity_date = ?3 WHERE ca = ?4 AND serial = ?5 AND status = 'V'"));
  upd->BindInt(1, now);
  upd->BindInt(2, r.reason);
  if (r.invalidity_date != 0) upd->BindInt(3, r.invalidity_date); else upd->BindNull(3);
  upd->BindText(4, ca);
  upd->BindText(5, r.serial);
  CV_RETURN_IF_ERROR(upd->Step().status());
  CV_ASSIGN_OR_RETURN(SqlStatement * ins,
                      conn_->Prepare("INSERT INTO revocations (ca, serial, part, revoked_at, reason, invalidity_date, "
                                     "not_after) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  ins->BindText(1, ca);
  ins->BindText(2, r.serial);
  ins->BindInt(3, PartitionOf(r.serial, 256));
  ins->BindInt(4, now);
  ins->BindInt(5, r.reason);
  if (r.invalidity_date != 0) ins->BindInt(6, r.invalidity_date); else ins->BindNull(6);
  ins->BindInt(7, not_after);
  // A concurrent revoker of the same serial loses on UNIQUE (ca, serial).
  Result<bool> step = ins->Step();
  if (!step.ok() && step.status().code() == StatusCode::kAlreadyExists) {
    return FailedPreconditionError("certificate " + r.serial + " is already revoked");
  }
  CV_RETURN_IF_ERROR(step.status());
  // The detail carries every field of the revocations row, so that the
  // chain can prove the row (CheckRevocationsAgainstAudit, ca/audit/).
  AuditEvent e = MakeAuditEvent(actor, "revoke", ca, r.serial, RevocationDetail(r.reason, r.invalidity_date));
  e.at = now;
  return InsertAudit(e);
}

Status SqlCertDb::Revoke(const std::string& ca, std::span<const Revocation> revocations, int64_t now,
                         const AuditActor& actor) {
  return InTransaction([&]() -> Status {
    for (const Revocation& r : revocations) CV_RETURN_IF_ERROR(RevokeOne(ca, r, now, actor));
    return OkStatus();
  });
}

Result<std::vector<RevokedEntry>> SqlCertDb::Revoked(const std::string& ca, int64_t after_id, int64_t now,
                                                     uint32_t partition, uint32_t partitions) {
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt,
                      conn_->Prepare("SELECT id, serial, revoked_at, reason, invalidity_date FROM revocations "
                                     "WHERE ca = ?1 AND id > ?2 AND not_after > ?3 AND (?4 <= 1 OR part % ?4 = ?5) "
                                     "ORDER BY id"));
  stmt->BindText(1, ca);
  stmt->BindInt(2, after_id);
  stmt->BindInt(3, now);
  stmt->BindInt(4, partitions);
  stmt->BindInt(5, partition);
  std::vector<RevokedEntry> out;
  out.reserve(1024);
  while (true) {
    CV_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    RevokedEntry e;
    e.id = stmt->Int(0);
    if (!DecodeSerial(stmt->TextView(1), e)) return DataLossError("malformed serial in the revocations table");
    e.revoked_at = stmt->Int(2);
    e.reason = static_cast<int>(stmt->Int(3));
    e.invalidity_date = stmt->IsNull(4) ? 0 : stmt->Int(4);
    out.push_back(e);
  }
  return out;
}

Result<int64_t> SqlCertDb::MaxRevocationId(const std::string& ca) {
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt, conn_->Prepare("SELECT COALESCE(MAX(id), 0) FROM revocations WHERE ca = ?1"));
  stmt->BindText(1, ca);
  CV_ASSIGN_OR_RETURN(bool row, stmt->Step());
  int64_t id = row ? stmt->Int(0) : 0;
  stmt->Reset();
  return id;
}

Result<std::vector<RevokedEntry>> SqlCertDb::RevokedForCrl(const std::string& ca, int64_t after_id, int64_t now,
                                                           uint32_t partition, uint32_t partitions,
                                                           int64_t* out_max_id) {
  std::vector<RevokedEntry> entries;
  Status st = InTransaction([&]() -> Status {
    // PostgreSQL: revocation ids come from a sequence, so a smaller id may
    // commit after a larger one. A revoking transaction holds ROW EXCLUSIVE
    // on the table; SHARE waits for those to commit and holds new ones off
    // until this short snapshot ends. (SQLite serializes writers already.)
    if (conn_->dialect() == SqlDialect::kPostgres) CV_RETURN_IF_ERROR(conn_->Exec("LOCK TABLE revocations IN SHARE MODE"));
    CV_ASSIGN_OR_RETURN(*out_max_id, MaxRevocationId(ca));
    CV_ASSIGN_OR_RETURN(entries, Revoked(ca, after_id, now, partition, partitions));
    while (!entries.empty() && entries.back().id > *out_max_id) entries.pop_back();
    return OkStatus();
  });
  if (!st.ok()) return st;
  return entries;
}

Result<CrlRecord> SqlCertDb::StoreCrl(CrlRecord crl, const AuditActor& actor,
                                      const std::function<Result<Bytes>(CrlRecord&)>& build) {
  Status st = InTransaction([&]() -> Status {
    CV_ASSIGN_OR_RETURN(SqlStatement * init, conn_->Prepare("INSERT INTO crl_counters (ca, part, next_number) VALUES "
                                                            "(?1, ?2, 1) ON CONFLICT (ca, part) DO NOTHING"));
    init->BindText(1, crl.ca);
    init->BindInt(2, crl.partition);
    CV_RETURN_IF_ERROR(init->Step().status());
    // The row lock on the counter serializes CRL numbering across processes.
    CV_ASSIGN_OR_RETURN(SqlStatement * next, conn_->Prepare("UPDATE crl_counters SET next_number = next_number + 1 "
                                                            "WHERE ca = ?1 AND part = ?2 RETURNING next_number - 1"));
    next->BindText(1, crl.ca);
    next->BindInt(2, crl.partition);
    CV_ASSIGN_OR_RETURN(bool row, next->Step());
    if (!row) return InternalError("CRL counter missing");
    crl.number = next->Int(0);
    next->Reset();
    CV_ASSIGN_OR_RETURN(crl.der, build(crl));
    CV_ASSIGN_OR_RETURN(SqlStatement * ins,
                        conn_->Prepare("INSERT INTO crls (ca, part, number, delta, base_number, this_update, "
                                       "next_update, max_revocation_id, der) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    ins->BindText(1, crl.ca);
    ins->BindInt(2, crl.partition);
    ins->BindInt(3, crl.number);
    ins->BindInt(4, crl.delta ? 1 : 0);
    ins->BindInt(5, crl.base_number);
    ins->BindInt(6, crl.this_update);
    ins->BindInt(7, crl.next_update);
    ins->BindInt(8, crl.max_revocation_id);
    ins->BindBlob(9, crl.der);
    CV_RETURN_IF_ERROR(ins->Step().status());
    // Keep the newest kKeptCrls of each kind: a million-entry CRL is 50 MB.
    CV_ASSIGN_OR_RETURN(SqlStatement * prune, conn_->Prepare("DELETE FROM crls WHERE ca = ?1 AND part = ?2 AND delta = ?3 "
                                                             "AND number <= ?4"));
    prune->BindText(1, crl.ca);
    prune->BindInt(2, crl.partition);
    prune->BindInt(3, crl.delta ? 1 : 0);
    prune->BindInt(4, crl.number - 2 * kKeptCrls);
    CV_RETURN_IF_ERROR(prune->Step().status());
    AuditEvent e = MakeAuditEvent(actor, "crl", crl.ca, std::to_string(crl.number),
                                  std::string(crl.delta ? "delta" : "full") + " partition=" +
                                      std::to_string(crl.partition) + " revocations<=" +
                                      std::to_string(crl.max_revocation_id));
    e.at = crl.this_update;
    return InsertAudit(e);
  });
  CV_RETURN_IF_ERROR(st);
  return crl;
}

Result<CrlRecord> SqlCertDb::LatestCrl(const std::string& ca, bool delta, uint32_t partition) {
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt,
                      conn_->Prepare("SELECT number, base_number, this_update, next_update, max_revocation_id, der "
                                     "FROM crls WHERE ca = ?1 AND part = ?2 AND delta = ?3 ORDER BY number DESC LIMIT 1"));
  stmt->BindText(1, ca);
  stmt->BindInt(2, partition);
  stmt->BindInt(3, delta ? 1 : 0);
  CV_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return NotFoundError(std::string("no ") + (delta ? "delta" : "full") + " CRL generated yet");
  CrlRecord c;
  c.ca = ca;
  c.partition = partition;
  c.delta = delta;
  c.number = stmt->Int(0);
  c.base_number = stmt->IsNull(1) ? 0 : stmt->Int(1);
  c.this_update = stmt->Int(2);
  c.next_update = stmt->Int(3);
  c.max_revocation_id = stmt->Int(4);
  c.der = stmt->Blob(5);
  stmt->Reset();
  return c;
}

}  // namespace certvault::ca
