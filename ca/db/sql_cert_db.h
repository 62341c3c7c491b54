// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// SqlCertDb: CertDb over a SqlConnection; the same code for SQLite and
// PostgreSQL. Methods are split over sql_cert_db.cc (certificates, audit) and
// sql_cert_db_revoke.cc (revocations, CRLs).
#ifndef CERTVAULT_CA_DB_SQL_CERT_DB_H_
#define CERTVAULT_CA_DB_SQL_CERT_DB_H_

#include <memory>

#include "ca/db/cert_db.h"
#include "ca/db/sql.h"

namespace certvault::ca {

class SqlCertDb final : public CertDb {
 public:
  explicit SqlCertDb(std::unique_ptr<SqlConnection> conn) : conn_(std::move(conn)) {}
  Status InsertCertificates(std::span<const CertRecord> records, const std::string& actor,
                            std::vector<bool>& out_inserted) override;
  Result<CertRecord> FindBySerial(const std::string& ca, const std::string& serial) override;
  Result<std::vector<CertRecord>> List(const std::string& ca, const std::string& subject_like, size_t limit) override;
  Status Revoke(const std::string& ca, std::span<const Revocation> revocations, int64_t now,
                const std::string& actor) override;
  Result<std::vector<RevokedEntry>> Revoked(const std::string& ca, int64_t after_id, int64_t now, uint32_t partition,
                                            uint32_t partitions) override;
  Result<int64_t> MaxRevocationId(const std::string& ca) override;
  Result<std::vector<RevokedEntry>> RevokedForCrl(const std::string& ca, int64_t after_id, int64_t now,
                                                  uint32_t partition, uint32_t partitions,
                                                  int64_t* out_max_id) override;
  Result<CrlRecord> StoreCrl(CrlRecord crl, const std::string& actor,
                             const std::function<Result<Bytes>(CrlRecord&)>& build) override;
  Result<CrlRecord> LatestCrl(const std::string& ca, bool delta, uint32_t partition) override;
  Status AddAudit(const AuditEvent& event) override;
  Result<std::vector<AuditEvent>> ListAudit(size_t limit) override;
  Status AddIdentity(const Identity& identity, const AuditEvent& event) override;
  Status RemoveIdentity(const std::string& name, const AuditEvent& event) override;
  Status SetRole(const std::string& name, const std::string& role, bool grant, const AuditEvent& event) override;
  Result<Identity> FindIdentity(const std::string& name) override;
  Result<Identity> FindIdentityByCert(const std::string& ca, const std::string& serial) override;
  Result<std::vector<Identity>> ListIdentities() override;
  Result<int64_t> CountCertificates(const std::string& ca) override;
  Status CheckIntegrity() override;
  Result<int64_t> LastCrlNumber(const std::string& ca, uint32_t partition) override;
  Status RaiseCrlNumber(const std::string& ca, uint32_t partition, int64_t next) override;
  // CheckOwner: the database belongs to CA `name` (ca_meta); with `create`,
  // a database that names no CA yet is given to `name`. A database from
  // before ca_meta is adopted when it holds certificates of `name`.
  Status CheckOwner(const std::string& name, bool create);

 private:
  // InTransaction: Begin, fn, Commit; Rollback when anything fails.
  Status InTransaction(const std::function<Status()>& fn);
  Status InsertAudit(const AuditEvent& event);
  // InsertCertBatch: one multi-row INSERT; the serials that went in.
  Status InsertCertBatch(std::span<const CertRecord> batch, int64_t now, std::vector<std::string>& inserted);
  Status InsertAuditBatch(std::span<const AuditEvent> events);
  Result<std::string> MetaValue(const std::string& key);
  Result<std::vector<std::string>> RolesOf(const std::string& name);
  Status RevokeOne(const std::string& ca, const Revocation& r, int64_t now, const std::string& actor);

  std::unique_ptr<SqlConnection> conn_;
};

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_DB_SQL_CERT_DB_H_
