// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// SqlCertDb: deliveries of update packages and their receipts (table
// provision_deliveries of migration 6; docs/design/provisioning.md). Each
// change commits with its audit event (InsertAudit) in one transaction, so
// the audit chain names every package built and every receipt recorded.
#include <ctime>

#include "ca/db/sql_cert_db.h"
#include "src/base/status_macros.h"

namespace certvault::ca {

Status CertDb::RecordDeliveries(std::span<const Delivery>, const AuditActor&) {
  return UnimplementedError("deliveries");
}
Result<Delivery> CertDb::CloseDelivery(const DeliveryReceipt&, const AuditActor&) {
  return UnimplementedError("deliveries");
}
Result<std::vector<Delivery>> CertDb::ListDeliveries(const std::string&, size_t) {
  return UnimplementedError("deliveries");
}

namespace {

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

constexpr const char kColumns[] =
    "id, ca, target_serial, counter, kind, key_id, cert_serial, package_hash, identity_key, expires_at, "
    "created_at, actor, receipt_result, receipt_at";

Delivery ReadDelivery(const SqlStatement& s) {
  Delivery d;
  d.id = s.Int(0);
  d.ca = s.Text(1);
  d.target_serial = s.Text(2);
  d.counter = static_cast<uint64_t>(s.Int(3));
  d.kind = s.Text(4);
  d.key_id = s.Text(5);
  d.cert_serial = s.Text(6);
  d.package_hash = s.Text(7);
  d.identity_key = s.Text(8);
  d.expires_at = s.Int(9);
  d.created_at = s.Int(10);
  d.actor = s.Text(11);
  d.receipt_result = s.IsNull(12) ? "" : s.Text(12);
  d.receipt_at = s.IsNull(13) ? 0 : s.Int(13);
  return d;
}

std::string DeliveryDetail(const Delivery& d) {
  return "counter=" + std::to_string(d.counter) + " kind=" + d.kind + " key=" + d.key_id + " cert=" + d.cert_serial +
         " package=" + d.package_hash + " expires=" + std::to_string(d.expires_at);
}

// Mismatch: which field of a receipt differs from its delivery ("" = none).
std::string Mismatch(const Delivery& d, const DeliveryReceipt& r) {
  if (r.target_serial != d.target_serial) return "another vault (target serial)";
  if (r.counter != d.counter) return "another update counter";
  if (!d.key_id.empty() && r.key_id != d.key_id) return "another key id";
  if (r.identity_key != d.identity_key) return "another identity key than the request's";
  return "";
}

}  // namespace

Status SqlCertDb::RecordDeliveries(std::span<const Delivery> deliveries, const AuditActor& actor) {
  return InTransaction([&]() -> Status {
    for (const Delivery& d : deliveries) {
      CV_ASSIGN_OR_RETURN(SqlStatement * stmt,
                          conn_->Prepare("INSERT INTO provision_deliveries (ca, target_serial, counter, kind, key_id, "
                                         "cert_serial, package_hash, identity_key, expires_at, created_at, actor) "
                                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
      stmt->BindText(1, d.ca);
      stmt->BindText(2, d.target_serial);
      stmt->BindInt(3, static_cast<int64_t>(d.counter));
      stmt->BindText(4, d.kind);
      stmt->BindText(5, d.key_id);
      stmt->BindText(6, d.cert_serial);
      stmt->BindText(7, d.package_hash);
      stmt->BindText(8, d.identity_key);
      stmt->BindInt(9, d.expires_at);
      stmt->BindInt(10, d.created_at != 0 ? d.created_at : Now());
      stmt->BindText(11, actor.identity);
      CV_RETURN_IF_ERROR(stmt->Step().status());
      CV_RETURN_IF_ERROR(InsertAudit(MakeAuditEvent(actor, "provision", d.ca, d.target_serial, DeliveryDetail(d))));
    }
    return OkStatus();
  });
}

Result<Delivery> SqlCertDb::CloseDelivery(const DeliveryReceipt& r, const AuditActor& actor) {
  Delivery d;
  Status st = InTransaction([&]() -> Status {
    // FOR UPDATE: two receipts of one package racing on PostgreSQL; SQLite's
    // BEGIN IMMEDIATE already serializes the writers.
    std::string sql = std::string("SELECT ") + kColumns + " FROM provision_deliveries WHERE package_hash = ?1";
    if (conn_->dialect() == SqlDialect::kPostgres) sql += " FOR UPDATE";
    CV_ASSIGN_OR_RETURN(SqlStatement * find, conn_->Prepare(sql));
    find->BindText(1, r.package_hash);
    CV_ASSIGN_OR_RETURN(bool row, find->Step());
    if (row) d = ReadDelivery(*find);
    find->Reset();
    if (!row) return NotFoundError("no delivery of package " + r.package_hash + " is recorded");
    if (d.receipt_at != 0) return AlreadyExistsError("package " + r.package_hash + " has a receipt already");
    if (std::string why = Mismatch(d, r); !why.empty()) {
      return Status(Reason::kDataInvalid, "the receipt does not match its delivery: " + why);
    }
    d.receipt_result = r.result;
    d.receipt_at = Now();
    CV_ASSIGN_OR_RETURN(SqlStatement * up, conn_->Prepare("UPDATE provision_deliveries SET receipt_result = ?1, "
                                                          "receipt_at = ?2 WHERE id = ?3"));
    up->BindText(1, d.receipt_result);
    up->BindInt(2, d.receipt_at);
    up->BindInt(3, d.id);
    CV_RETURN_IF_ERROR(up->Step().status());
    return InsertAudit(MakeAuditEvent(actor, "provision-receipt", d.ca, d.target_serial,
                                      "counter=" + std::to_string(d.counter) + " package=" + d.package_hash +
                                          " result=" + d.receipt_result));
  });
  if (!st.ok()) return st;
  return d;
}

Result<std::vector<Delivery>> SqlCertDb::ListDeliveries(const std::string& target_serial, size_t limit) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM provision_deliveries";
  sql += target_serial.empty() ? " ORDER BY id DESC LIMIT ?1" : " WHERE target_serial = ?2 ORDER BY id DESC LIMIT ?1";
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt, conn_->Prepare(sql));
  stmt->BindInt(1, static_cast<int64_t>(limit));
  if (!target_serial.empty()) stmt->BindText(2, target_serial);
  std::vector<Delivery> out;
  while (true) {
    Result<bool> row = stmt->Step();
    if (!row.ok() || !*row) {
      stmt->Reset();
      if (!row.ok()) return row.status();
      break;
    }
    out.push_back(ReadDelivery(*stmt));
  }
  return out;
}

}  // namespace certvault::ca
