// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// OpenCertDb and the checks that guard a database before the CA signs with
// it: who owns it (ca_meta) and whether it is intact.
#include <string>

#include "ca/db/migrations/migrations.h"
#include "ca/db/sql_cert_db.h"
#include "src/base/status_macros.h"

namespace certvault::ca {

Result<std::unique_ptr<CertDb>> OpenCertDb(const std::string& url, const DbOpenOptions& options) {
  std::unique_ptr<SqlConnection> conn;
  std::string where;
  if (url.starts_with("sqlite:")) {
    where = url.substr(7);
    CV_ASSIGN_OR_RETURN(conn, OpenSqlite(where, options.create));
  } else {
    where = "(PostgreSQL)";
    CV_ASSIGN_OR_RETURN(conn, OpenPostgres(url));
  }
  CV_RETURN_IF_ERROR(Migrate(*conn, options.create, where));
  auto db = std::make_unique<SqlCertDb>(std::move(conn));
  if (!options.ca_name.empty()) CV_RETURN_IF_ERROR(db->CheckOwner(options.ca_name, options.create));
  return std::unique_ptr<CertDb>(std::move(db));
}

Result<std::string> SqlCertDb::MetaValue(const std::string& key) {
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt, conn_->Prepare("SELECT value FROM ca_meta WHERE name = ?1"));
  stmt->BindText(1, key);
  CV_ASSIGN_OR_RETURN(bool row, stmt->Step());
  std::string value = row ? stmt->Text(0) : "";
  stmt->Reset();
  return value;
}

Status SqlCertDb::CheckOwner(const std::string& name, bool create) {
  CV_ASSIGN_OR_RETURN(std::string owner, MetaValue("ca_name"));
  if (owner == name) return OkStatus();
  if (!owner.empty()) {
    return FailedPreconditionError("the CA database belongs to CA '" + owner + "', not to '" + name +
                                   "' ([ca] name in ca.toml)");
  }
  if (!create) {
    // A database written before ca_meta existed: adopted if it is this CA's.
    CV_ASSIGN_OR_RETURN(int64_t root, CountCertificates(name + "-root"));
    CV_ASSIGN_OR_RETURN(int64_t issuing, CountCertificates(name + "-issuing"));
    if (root + issuing == 0) {
      return FailedPreconditionError("the CA database holds no CA '" + name +
                                     "': only 'certvault-ca init' creates one; restore it from a backup");
    }
  }
  return InTransaction([&]() -> Status {
    CV_ASSIGN_OR_RETURN(SqlStatement * stmt, conn_->Prepare("INSERT INTO ca_meta (name, value) VALUES ('ca_name', ?1)"));
    stmt->BindText(1, name);
    return stmt->Step().status();
  });
}

Status SqlCertDb::CheckIntegrity() {
  if (conn_->dialect() == SqlDialect::kSqlite) {
    // quick_check: every page and b-tree is well formed (O(N), without the
    // index-content cross-check of integrity_check).
    CV_ASSIGN_OR_RETURN(SqlStatement * stmt, conn_->Prepare("PRAGMA quick_check"));
    CV_ASSIGN_OR_RETURN(bool row, stmt->Step());
    std::string first = row ? stmt->Text(0) : "no answer";
    stmt->Reset();
    if (first != "ok") return DataLossError("the CA database is damaged (quick_check: " + first + "); restore it from a backup");
    return OkStatus();
  }
  // PostgreSQL checks pages as it reads them (data checksums, when enabled):
  // read what a CRL and the OCSP responder depend on.
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt,
                      conn_->Prepare("SELECT (SELECT COUNT(*) FROM revocations), (SELECT COUNT(*) FROM crl_counters), "
                                     "(SELECT COUNT(*) FROM crls), (SELECT COUNT(*) FROM certificates)"));
  Result<bool> row = stmt->Step();
  stmt->Reset();
  if (!row.ok()) return DataLossError("the CA database does not read back: " + std::string(row.status().message()));
  return OkStatus();
}

Result<int64_t> SqlCertDb::LastCrlNumber(const std::string& ca, uint32_t partition) {
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt,
                      conn_->Prepare("SELECT next_number FROM crl_counters WHERE ca = ?1 AND part = ?2"));
  stmt->BindText(1, ca);
  stmt->BindInt(2, partition);
  CV_ASSIGN_OR_RETURN(bool row, stmt->Step());
  int64_t last = row ? stmt->Int(0) - 1 : 0;
  stmt->Reset();
  return last;
}

Status SqlCertDb::RaiseCrlNumber(const std::string& ca, uint32_t partition, int64_t next) {
  return InTransaction([&]() -> Status {
    CV_ASSIGN_OR_RETURN(SqlStatement * init, conn_->Prepare("INSERT INTO crl_counters (ca, part, next_number) VALUES "
                                                            "(?1, ?2, 1) ON CONFLICT (ca, part) DO NOTHING"));
    init->BindText(1, ca);
    init->BindInt(2, partition);
    CV_RETURN_IF_ERROR(init->Step().status());
    CV_ASSIGN_OR_RETURN(SqlStatement * up, conn_->Prepare("UPDATE crl_counters SET next_number = ?3 "
                                                          "WHERE ca = ?1 AND part = ?2 AND next_number < ?3"));
    up->BindText(1, ca);
    up->BindInt(2, partition);
    up->BindInt(3, next);
    return up->Step().status();
  });
}

}  // namespace certvault::ca
