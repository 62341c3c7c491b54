// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/db/sql_cert_db.h"

#include <algorithm>
#include <ctime>

#include "ca/db/migrations/migrations.h"
#include "src/base/status_macros.h"

namespace certvault::ca {

uint32_t PartitionOf(const std::string& serial_hex, uint32_t partitions) {
  if (partitions <= 1 || serial_hex.size() < 2) return 0;
  uint32_t last = static_cast<uint32_t>(std::stoul(serial_hex.substr(serial_hex.size() - 2), nullptr, 16));
  return last % partitions;
}

std::string PartitionUrl(const std::string& url, uint32_t partition, uint32_t partitions) {
  if (partitions <= 1 || url.empty()) return url;
  std::string suffix = "-p" + std::to_string(partition);
  if (url.ends_with(".crl")) return url.substr(0, url.size() - 4) + suffix + ".crl";
  return url + suffix;
}

Status SqlCertDb::InTransaction(const std::function<Status()>& fn) {
  CV_RETURN_IF_ERROR(conn_->Begin());
  head_ = TxHead{};
  Status st = fn();
  if (st.ok() && head_.appended > 0) st = SaveHead();
  if (st.ok()) st = conn_->Commit();
  if (!st.ok()) conn_->Rollback();
  TxHead done = std::move(head_);
  head_ = TxHead{};
  if (st.ok() && done.appended > 0 && observer_) observer_(done.seq, done.hash);
  return st;
}

Status SqlCertDb::AddAudit(const AuditEvent& event) {
  return InTransaction([&] { return InsertAudit(event); });
}

namespace {

// Rows per multi-row INSERT: one statement (one PostgreSQL round trip) per
// 64 certificates; 64 * 9 parameters stay far below both databases' limits.
constexpr size_t kRowsPerInsert = 64;

std::string ValuesList(size_t rows, size_t cols) {
  std::string out;
  for (size_t r = 0; r < rows; ++r) {
    out += r == 0 ? "(" : ", (";
    for (size_t c = 0; c < cols; ++c) out += (c == 0 ? "?" : ", ?") + std::to_string(r * cols + c + 1);
    out += ")";
  }
  return out;
}

}  // namespace

Status SqlCertDb::InsertCertBatch(std::span<const CertRecord> batch, int64_t now, std::vector<std::string>& inserted) {
  // ON CONFLICT DO NOTHING: a serial collision is reported per row instead
  // of aborting the batch (PostgreSQL aborts a transaction on an error).
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt,
                      conn_->Prepare("INSERT INTO certificates (ca, serial, part, subject, profile, not_before, "
                                     "not_after, issued_at, der) VALUES " + ValuesList(batch.size(), 9) +
                                     " ON CONFLICT (ca, serial) DO NOTHING RETURNING serial"));
  for (size_t i = 0; i < batch.size(); ++i) {
    const CertRecord& r = batch[i];
    int base = static_cast<int>(i * 9);
    stmt->BindText(base + 1, r.ca);
    stmt->BindText(base + 2, r.serial);
    stmt->BindInt(base + 3, PartitionOf(r.serial, 256));
    stmt->BindText(base + 4, r.subject);
    stmt->BindText(base + 5, r.profile);
    stmt->BindInt(base + 6, r.not_before);
    stmt->BindInt(base + 7, r.not_after);
    stmt->BindInt(base + 8, now);
    stmt->BindBlob(base + 9, r.der);
  }
  while (true) {
    CV_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    inserted.push_back(stmt->Text(0));
  }
  return OkStatus();
}

Status SqlCertDb::InsertCertificates(std::span<const CertRecord> records, const AuditActor& actor,
                                     std::vector<bool>& out_inserted, std::span<const AuditEvent> refusals) {
  out_inserted.assign(records.size(), false);
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  return InTransaction([&]() -> Status {
    for (size_t begin = 0; begin < records.size(); begin += kRowsPerInsert) {
      std::span<const CertRecord> batch = records.subspan(begin, std::min(kRowsPerInsert, records.size() - begin));
      std::vector<std::string> inserted;
      CV_RETURN_IF_ERROR(InsertCertBatch(batch, now, inserted));
      std::sort(inserted.begin(), inserted.end());
      std::vector<AuditEvent> events;
      for (size_t i = 0; i < batch.size(); ++i) {
        const CertRecord& r = batch[i];
        // Each returned serial marks one record: a serial repeated inside the
        // batch went in once, and its second record must be re-signed.
        auto it = std::lower_bound(inserted.begin(), inserted.end(), r.serial);
        if (it == inserted.end() || *it != r.serial) continue;
        inserted.erase(it);
        out_inserted[begin + i] = true;
        if (!r.cmp_tid.empty()) CV_RETURN_IF_ERROR(FinishCmpTransaction(r));
        AuditEvent e = MakeAuditEvent(r.actor != nullptr ? *r.actor : actor, "issue", r.ca, r.serial, "profile=" + r.profile + " subject=" + r.subject);
        e.at = now;
        events.push_back(std::move(e));
      }
      if (!events.empty()) CV_RETURN_IF_ERROR(InsertAuditBatch(events));
    }
    for (size_t begin = 0; begin < refusals.size(); begin += kRowsPerInsert) {
      CV_RETURN_IF_ERROR(InsertAuditBatch(refusals.subspan(begin, std::min(kRowsPerInsert, refusals.size() - begin))));
    }
    return OkStatus();
  });
}

namespace {

constexpr const char* kCertColumns =
    "ca, serial, subject, profile, not_before, not_after, der, status, revoked_at, reason, invalidity_date";

CertRecord ReadCert(const SqlStatement& s) {
  CertRecord r;
  r.ca = s.Text(0);
  r.serial = s.Text(1);
  r.subject = s.Text(2);
  r.profile = s.Text(3);
  r.not_before = s.Int(4);
  r.not_after = s.Int(5);
  r.der = s.Blob(6);
  r.revoked = s.Text(7) == "R";
  r.revoked_at = s.IsNull(8) ? 0 : s.Int(8);
  r.reason = s.IsNull(9) ? 0 : static_cast<int>(s.Int(9));
  r.invalidity_date = s.IsNull(10) ? 0 : s.Int(10);
  return r;
}

}  // namespace

Result<CertRecord> SqlCertDb::FindBySerial(const std::string& ca, const std::string& serial) {
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt, conn_->Prepare(std::string("SELECT ") + kCertColumns +
                                                          " FROM certificates WHERE ca = ?1 AND serial = ?2"));
  stmt->BindText(1, ca);
  stmt->BindText(2, serial);
  CV_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return NotFoundError("no certificate with serial " + serial + " issued by " + ca);
  CertRecord r = ReadCert(*stmt);
  stmt->Reset();
  return r;
}

Result<std::vector<CertRecord>> SqlCertDb::List(const std::string& ca, const std::string& subject_like, size_t limit) {
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt,
                      conn_->Prepare(std::string("SELECT ") + kCertColumns +
                                     " FROM certificates WHERE ca = ?1 AND (?2 = '' OR subject LIKE ?3) "
                                     "ORDER BY id DESC LIMIT ?4"));
  stmt->BindText(1, ca);
  stmt->BindText(2, subject_like);
  stmt->BindText(3, "%" + subject_like + "%");
  stmt->BindInt(4, static_cast<int64_t>(limit));
  std::vector<CertRecord> out;
  while (true) {
    CV_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(ReadCert(*stmt));
  }
  return out;
}

Result<int64_t> SqlCertDb::CountCertificates(const std::string& ca) {
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt, conn_->Prepare("SELECT COUNT(*) FROM certificates WHERE ca = ?1"));
  stmt->BindText(1, ca);
  CV_ASSIGN_OR_RETURN(bool row, stmt->Step());
  int64_t n = row ? stmt->Int(0) : 0;
  stmt->Reset();
  return n;
}

Result<std::vector<AuditEvent>> SqlCertDb::ListAudit(size_t limit) {
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt, conn_->Prepare("SELECT at, actor, action, ca, object, detail FROM "
                                                          "audit_events ORDER BY id DESC LIMIT ?1"));
  stmt->BindInt(1, static_cast<int64_t>(limit));
  std::vector<AuditEvent> out;
  while (true) {
    CV_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back({stmt->Int(0), stmt->Text(1), stmt->Text(2), stmt->Text(3), stmt->Text(4), stmt->Text(5)});
  }
  return out;
}

}  // namespace certvault::ca
