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
  Status InsertCertificates(std::span<const CertRecord> records, const AuditActor& actor,
                            std::vector<bool>& out_inserted, std::span<const AuditEvent> refusals) override;
  Result<CertRecord> FindBySerial(const std::string& ca, const std::string& serial) override;
  Result<std::vector<CertRecord>> List(const std::string& ca, const std::string& subject_like, size_t limit) override;
  Status Revoke(const std::string& ca, std::span<const Revocation> revocations, int64_t now,
                const AuditActor& actor) override;
  Result<std::vector<RevokedEntry>> Revoked(const std::string& ca, int64_t after_id, int64_t now, uint32_t partition,
                                            uint32_t partitions) override;
  Result<int64_t> MaxRevocationId(const std::string& ca) override;
  Result<std::vector<RevokedEntry>> RevokedForCrl(const std::string& ca, int64_t after_id, int64_t now,
                                                  uint32_t partition, uint32_t partitions,
                                                  int64_t* out_max_id) override;
  Result<CrlRecord> StoreCrl(CrlRecord crl, const AuditActor& actor,
                             const std::function<Result<Bytes>(CrlRecord&)>& build) override;
  Result<CrlRecord> LatestCrl(const std::string& ca, bool delta, uint32_t partition) override;
  Status AddAudit(const AuditEvent& event) override;
  Result<std::vector<AuditEvent>> ListAudit(size_t limit) override;
  Status ReadAuditChain(int64_t from_seq, int64_t since,
                        const std::function<Status(const AuditEvent&)>& fn) override;
  Result<AuditChainState> ReadAuditState() override;
  Status StoreCheckpoint(const AuditCheckpoint& cp) override;
  Result<std::vector<AuditCheckpoint>> ListCheckpoints() override;
  Result<std::vector<CertRecord>> RevocationRows(const std::string& ca, bool from_certificates) override;
  void SetAppendObserver(std::function<void(int64_t seq, const Bytes& hash)> observer) override {
    observer_ = std::move(observer);
  }
  Result<bool> HasRevokeRecord(const std::string& ca, const std::string& serial) override;
  void SetAuditForBenchmark(bool enabled) override { audit_enabled_ = enabled; }
  Result<std::string> GetMeta(const std::string& key) override { return MetaValue(key); }
  Status SetMeta(const std::string& key, const std::string& value) override;
  Status AddIdentity(const Identity& identity, const AuditEvent& event) override;
  Status RemoveIdentity(const std::string& name, const AuditEvent& event) override;
  Status SetRole(const std::string& name, const std::string& role, bool grant, const AuditEvent& event) override;
  Result<Identity> FindIdentity(const std::string& name) override;
  Result<Identity> FindIdentityByCert(const std::string& ca, const std::string& serial) override;
  Result<std::vector<Identity>> ListIdentities() override;
  Status RecordDeliveries(std::span<const Delivery> deliveries, const AuditActor& actor) override;
  Result<Delivery> CloseDelivery(const DeliveryReceipt& r, const AuditActor& actor) override;
  Result<std::vector<Delivery>> ListDeliveries(const std::string& target_serial, size_t limit) override;
  Result<int64_t> CountCertificates(const std::string& ca) override;
  Status CheckIntegrity() override;
  Result<int64_t> LastCrlNumber(const std::string& ca, uint32_t partition) override;
  Status RaiseCrlNumber(const std::string& ca, uint32_t partition, int64_t next) override;
  Status AddEnrollCode(const EnrollCodeRow& row, int64_t purge_before) override;
  Result<EnrollCodeRow> FindEnrollCode(const std::string& id) override;
  Status BurnEnrollCode(const std::string& id, const std::string& profile, int64_t now) override;
  Status ReturnEnrollCode(const std::string& id, int64_t used_at) override;
  Result<CmpClaim> ClaimCmpTransaction(const std::string& ca, const std::string& tid, const std::string& claim,
                                       int64_t now, int64_t lease_s) override;
  Status ReleaseCmpTransaction(const std::string& ca, const std::string& tid, const std::string& claim) override;
  Status ImportCmpTransaction(const std::string& ca, const std::string& tid, const std::string& serial,
                              int64_t at) override;
  // CheckOwner: the database belongs to CA `name` (ca_meta); with `create`,
  // a database that names no CA yet is given to `name`. A database from
  // before ca_meta is adopted when it holds certificates of `name`.
  Status CheckOwner(const std::string& name, bool create);

 private:
  // InTransaction: Begin, fn, Commit; Rollback when anything fails. Audit
  // records appended by fn move the chain head (audit_head) in the same
  // transaction; the observer hears of the new head after the commit.
  Status InTransaction(const std::function<Status()>& fn);
  // InsertAudit / InsertAuditBatch: append to the chain (sql_cert_db_audit.cc).
  // REQUIRES: inside InTransaction.
  Status InsertAudit(const AuditEvent& event);
  // InsertCertBatch: one multi-row INSERT; the serials that went in.
  Status InsertCertBatch(std::span<const CertRecord> batch, int64_t now, std::vector<std::string>& inserted);
  Status InsertAuditBatch(std::span<const AuditEvent> events);
  // FinishCmpTransaction: sets the serial of a claimed transactionID;
  // kAborted when the claim is no longer the record's (sql_cert_db_shared.cc).
  // REQUIRES: inside InTransaction.
  Status FinishCmpTransaction(const CertRecord& rec);
  // StepReturnsRow: runs a statement with RETURNING; whether it gave a row
  // (drained and reset, so SQLite's statement does not pin the transaction).
  static Result<bool> StepReturnsRow(SqlStatement* stmt);
  // RelaxedCommit: the current transaction commits without waiting for its
  // WAL flush (PostgreSQL only; see sql_cert_db_shared.cc). REQUIRES: inside InTransaction.
  Status RelaxedCommit();
  Result<std::string> MetaValue(const std::string& key);
  Status RevokeOne(const std::string& ca, const Revocation& r, int64_t now, const AuditActor& actor);
  // LockHead: reads (and on PostgreSQL row-locks) the chain head once per
  // transaction; SaveHead writes it back before the commit.
  Status LockHead();
  Status SaveHead();
  Result<std::vector<std::string>> RolesOf(const std::string& name);

  struct TxHead {
    bool loaded = false;
    int64_t seq = 0;
    Bytes hash;
    int64_t appended = 0;
  };
  std::unique_ptr<SqlConnection> conn_;
  TxHead head_;
  bool audit_enabled_ = true;
  std::function<void(int64_t, const Bytes&)> observer_;
};

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_DB_SQL_CERT_DB_H_
