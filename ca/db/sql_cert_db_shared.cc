// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// SqlCertDb: state shared by several `certvault-ca serve` processes on one
// database (migration 5; docs/design/enrollment.md, "Several serve
// processes"): one-time enrollment codes and the CMP transactionID map.
// Every decision that two processes could both make is one statement whose
// row count (RETURNING) says who won: a conditional UPDATE, or an INSERT
// under the primary key with ON CONFLICT DO NOTHING. On PostgreSQL a second
// writer of the same row waits for the first one's commit and then sees its
// result (READ COMMITTED re-checks the WHERE clause on the new row version);
// SQLite serializes write transactions (BEGIN IMMEDIATE).
#include "ca/db/sql_cert_db.h"
#include "src/base/status_macros.h"

namespace certvault::ca {

Status CertDb::AddEnrollCode(const EnrollCodeRow&, int64_t) { return UnimplementedError("enrollment codes"); }
Result<EnrollCodeRow> CertDb::FindEnrollCode(const std::string&) { return UnimplementedError("enrollment codes"); }
Status CertDb::BurnEnrollCode(const std::string&, const std::string&, int64_t) {
  return UnimplementedError("enrollment codes");
}
Status CertDb::ReturnEnrollCode(const std::string&, int64_t) { return UnimplementedError("enrollment codes"); }
Result<CmpClaim> CertDb::ClaimCmpTransaction(const std::string&, const std::string&, const std::string&, int64_t,
                                             int64_t) {
  return UnimplementedError("CMP transactions");
}
Status CertDb::ReleaseCmpTransaction(const std::string&, const std::string&, const std::string&) {
  return UnimplementedError("CMP transactions");
}
Status CertDb::ImportCmpTransaction(const std::string&, const std::string&, const std::string&, int64_t) {
  return UnimplementedError("CMP transactions");
}

// RelaxedCommit: a claim (or its release) must be visible to the other
// processes at once, but need not wait for its own flush: the certificate
// commit that follows it flushes the WAL up to itself, claim included
// (PostgreSQL writes the WAL in order), so a durable certificate always has
// its durable claim, and a claim lost with the server is harmless (its
// certificate did not commit either; a lost release only expires). Saves
// one WAL flush per CMP request. SQLite: no per-transaction setting; the
// commit stays synchronous.
Status SqlCertDb::RelaxedCommit() {
  if (conn_->dialect() != SqlDialect::kPostgres) return OkStatus();
  return conn_->Exec("SET LOCAL synchronous_commit TO OFF");
}

Result<bool> SqlCertDb::StepReturnsRow(SqlStatement* stmt) {
  Result<bool> row = stmt->Step();
  stmt->Reset();
  return row;
}

Status SqlCertDb::AddEnrollCode(const EnrollCodeRow& row, int64_t purge_before) {
  return InTransaction([&]() -> Status {
    CV_ASSIGN_OR_RETURN(SqlStatement * purge, conn_->Prepare("DELETE FROM enroll_codes WHERE expires < ?1"));
    purge->BindInt(1, purge_before);
    CV_RETURN_IF_ERROR(StepReturnsRow(purge).status());
    CV_ASSIGN_OR_RETURN(SqlStatement * ins,
                        conn_->Prepare("INSERT INTO enroll_codes (id, profile, expires, used, salt, hash, secret) "
                                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    ins->BindText(1, row.id);
    ins->BindText(2, row.profile);
    ins->BindInt(3, row.expires);
    ins->BindInt(4, row.used);
    ins->BindBlob(5, row.salt);
    ins->BindBlob(6, row.hash);
    if (row.secret.empty()) {
      ins->BindNull(7);
    } else {
      ins->BindBlob(7, row.secret);
    }
    return StepReturnsRow(ins).status();  // kAlreadyExists for a known id
  });
}

Result<EnrollCodeRow> SqlCertDb::FindEnrollCode(const std::string& id) {
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt,
                      conn_->Prepare("SELECT profile, expires, used, salt, hash, secret FROM enroll_codes "
                                     "WHERE id = ?1"));
  stmt->BindText(1, id);
  Result<bool> row = stmt->Step();
  if (!row.ok() || !*row) {
    stmt->Reset();
    if (!row.ok()) return row.status();
    return NotFoundError("unknown enrollment code");
  }
  EnrollCodeRow out{id, stmt->Text(0), stmt->Int(1), stmt->Int(2), stmt->Blob(3), stmt->Blob(4), {}};
  if (!stmt->IsNull(5)) out.secret = stmt->Blob(5);
  stmt->Reset();
  return out;
}

Status SqlCertDb::BurnEnrollCode(const std::string& id, const std::string& profile, int64_t now) {
  bool burnt = false;
  CV_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    CV_ASSIGN_OR_RETURN(SqlStatement * stmt,
                        conn_->Prepare("UPDATE enroll_codes SET used = ?2 WHERE id = ?1 AND used = 0 AND "
                                       "expires >= ?2 AND profile = ?3 RETURNING id"));
    stmt->BindText(1, id);
    stmt->BindInt(2, now);
    stmt->BindText(3, profile);
    CV_ASSIGN_OR_RETURN(burnt, StepReturnsRow(stmt));
    return OkStatus();
  }));
  if (!burnt) return PermissionDeniedError("enrollment code already used, expired or for another profile");
  return OkStatus();
}

Status SqlCertDb::ReturnEnrollCode(const std::string& id, int64_t used_at) {
  return InTransaction([&]() -> Status {
    CV_ASSIGN_OR_RETURN(SqlStatement * stmt,
                        conn_->Prepare("UPDATE enroll_codes SET used = 0 WHERE id = ?1 AND used = ?2"));
    stmt->BindText(1, id);
    stmt->BindInt(2, used_at);
    return StepReturnsRow(stmt).status();
  });
}

Result<CmpClaim> SqlCertDb::ClaimCmpTransaction(const std::string& ca, const std::string& tid, const std::string& claim,
                                                int64_t now, int64_t lease_s) {
  CmpClaim out;
  bool busy = false;
  CV_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    CV_RETURN_IF_ERROR(RelaxedCommit());
    CV_ASSIGN_OR_RETURN(SqlStatement * ins,
                        conn_->Prepare("INSERT INTO cmp_transactions (ca, tid, claim, claimed_at) VALUES "
                                       "(?1, ?2, ?3, ?4) ON CONFLICT (ca, tid) DO NOTHING RETURNING tid"));
    ins->BindText(1, ca);
    ins->BindText(2, tid);
    ins->BindText(3, claim);
    ins->BindInt(4, now);
    CV_ASSIGN_OR_RETURN(out.claimed, StepReturnsRow(ins));
    if (out.claimed) return OkStatus();
    CV_ASSIGN_OR_RETURN(SqlStatement * sel, conn_->Prepare("SELECT serial, claim, claimed_at FROM cmp_transactions "
                                                           "WHERE ca = ?1 AND tid = ?2"));
    sel->BindText(1, ca);
    sel->BindText(2, tid);
    CV_ASSIGN_OR_RETURN(bool row, sel->Step());
    if (!row) return Status(StatusCode::kAborted, "CMP transaction row vanished; retry");  // released in between
    std::string serial = sel->IsNull(0) ? "" : sel->Text(0);
    std::string old_claim = sel->Text(1);
    int64_t claimed_at = sel->Int(2);
    sel->Reset();
    if (!serial.empty()) {
      out.serial = std::move(serial);
      return OkStatus();
    }
    if (claimed_at >= now - lease_s) {
      busy = true;
      return OkStatus();
    }
    // A claim older than the lease: its holder died (kill -9, host lost)
    // before its certificate committed. Taken over only if still that claim.
    CV_ASSIGN_OR_RETURN(SqlStatement * take,
                        conn_->Prepare("UPDATE cmp_transactions SET claim = ?3, claimed_at = ?4 WHERE ca = ?1 AND "
                                       "tid = ?2 AND claim = ?5 AND serial IS NULL RETURNING tid"));
    take->BindText(1, ca);
    take->BindText(2, tid);
    take->BindText(3, claim);
    take->BindInt(4, now);
    take->BindText(5, old_claim);
    CV_ASSIGN_OR_RETURN(out.claimed, StepReturnsRow(take));
    busy = !out.claimed;
    return OkStatus();
  }));
  if (busy) return AlreadyExistsError("a request with this transactionID is in progress");
  return out;
}

Status SqlCertDb::ReleaseCmpTransaction(const std::string& ca, const std::string& tid, const std::string& claim) {
  return InTransaction([&]() -> Status {
    CV_RETURN_IF_ERROR(RelaxedCommit());
    CV_ASSIGN_OR_RETURN(SqlStatement * stmt, conn_->Prepare("DELETE FROM cmp_transactions WHERE ca = ?1 AND "
                                                            "tid = ?2 AND claim = ?3 AND serial IS NULL"));
    stmt->BindText(1, ca);
    stmt->BindText(2, tid);
    stmt->BindText(3, claim);
    return StepReturnsRow(stmt).status();
  });
}

Status SqlCertDb::ImportCmpTransaction(const std::string& ca, const std::string& tid, const std::string& serial,
                                       int64_t at) {
  return InTransaction([&]() -> Status {
    CV_ASSIGN_OR_RETURN(SqlStatement * stmt,
                        conn_->Prepare("INSERT INTO cmp_transactions (ca, tid, claim, claimed_at, serial) VALUES "
                                       "(?1, ?2, 'imported', ?3, ?4) ON CONFLICT (ca, tid) DO NOTHING"));
    stmt->BindText(1, ca);
    stmt->BindText(2, tid);
    stmt->BindInt(3, at);
    stmt->BindText(4, serial);
    return StepReturnsRow(stmt).status();
  });
}

Status SqlCertDb::FinishCmpTransaction(const CertRecord& rec) {
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt,
                      conn_->Prepare("UPDATE cmp_transactions SET serial = ?4 WHERE ca = ?1 AND tid = ?2 AND "
                                     "claim = ?3 AND serial IS NULL RETURNING tid"));
  stmt->BindText(1, rec.ca);
  stmt->BindText(2, rec.cmp_tid);
  stmt->BindText(3, rec.cmp_claim);
  stmt->BindText(4, rec.serial);
  CV_ASSIGN_OR_RETURN(bool done, StepReturnsRow(stmt));
  // Only if the claim outlived its lease and another request took it over:
  // this certificate must not commit (that request issues its own).
  if (!done) return Status(StatusCode::kAborted, "the CMP transactionID's claim was taken over; nothing stored");
  return OkStatus();
}

}  // namespace certvault::ca
