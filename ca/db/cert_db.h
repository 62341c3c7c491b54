// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CertDb: the CA's certificate database. Two implementations share one schema
// and one migration list (ca/db/migrations/): SQLite (WAL, synchronous=FULL;
// the default) and PostgreSQL (libpq), chosen by the connection string. Every
// method that changes state commits durably before it returns, and SQL values
// are always bound, never spliced into the text. Layout: docs/formats/ca-db.md.
//
// Thread-safety: one CertDb object is used by one thread at a time (callers
// serialize; the issuer commits from one thread). Several processes may share
// one database: uniqueness of serials is enforced by the database itself, as
// are single use of enrollment codes and of CMP transactionIDs (migration 5).
#ifndef CERTVAULT_CA_DB_CERT_DB_H_
#define CERTVAULT_CA_DB_CERT_DB_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "src/base/bytes.h"
#include "src/base/result.h"

namespace certvault::ca {

// CertRecord: one issued certificate. serial is lower-case hex without
// leading "0x" (the DER INTEGER's magnitude, 20 octets for CA serials).
struct CertRecord {
  std::string ca;        // the issuing CA's name ("root", "issuing", ...)
  std::string serial;
  std::string subject;   // RFC 2253 text, for listing and search
  std::string profile;
  int64_t not_before = 0;  // seconds since the epoch
  int64_t not_after = 0;
  Bytes der;
  // Revocation state (filled by reads).
  bool revoked = false;
  int64_t revoked_at = 0;
  int reason = 0;                 // RFC 5280 CRLReason
  int64_t invalidity_date = 0;    // 0 = none
  // actor: who asked for this certificate when it differs from the batch's
  // (an EST client); borrowed for the InsertCertificates call, may be null.
  const struct AuditActor* actor = nullptr;
  // cmp_tid / cmp_claim: the CMP transaction (transactionID hex) this
  // certificate answers, claimed with ClaimCmpTransaction; InsertCertificates
  // maps it to the serial in the certificate's own transaction. Empty: none.
  std::string cmp_tid;
  std::string cmp_claim;
};

// EnrollCodeRow: one one-time enrollment code (table enroll_codes,
// migration 5; docs/design/enrollment.md). hash = SHA-256(salt || password);
// `secret` is the password itself, kept only for CMP codes (empty: not kept).
struct EnrollCodeRow {
  std::string id;
  std::string profile;
  int64_t expires = 0;
  int64_t used = 0;  // 0 = unused, else when it was burnt
  Bytes salt;
  Bytes hash;
  Bytes secret;
};

// CmpClaim: ClaimCmpTransaction's answer: either this caller now holds the
// transactionID (claimed; it may issue) or the transaction already issued
// the certificate `serial`.
struct CmpClaim {
  bool claimed = false;
  std::string serial;
};

// RevokedEntry: what a CRL entry needs. Fixed size (no allocation): a full
// CRL reads a million of them.
struct RevokedEntry {
  int64_t id = 0;           // revocation sequence number (increasing)
  std::array<uint8_t, 21> serial{};  // big-endian magnitude, serial_len octets
  uint8_t serial_len = 0;
  int64_t revoked_at = 0;
  int reason = 0;
  int64_t invalidity_date = 0;
};

// CrlRecord: one generated CRL, cached as DER.
struct CrlRecord {
  std::string ca;
  int64_t number = 0;
  bool delta = false;
  int64_t base_number = 0;   // delta only
  uint32_t partition = 0;    // 0 = the whole population
  int64_t this_update = 0;
  int64_t next_update = 0;
  int64_t max_revocation_id = 0;  // revocations included (a delta covers ids after its base's)
  Bytes der;
};

// AuditActor: who acts, as the audit chain records it (docs/formats/ca-audit.md).
// Today: identity = --actor, else "local:<uid>" (or "local:<uid>:<user>"), or
// the EST client's certificate subject; role = "" until roles exist ("break-glass"
// for offline commands); source = "local" or the peer's IP address; request_id
// = a random id per CLI run or per EST request. Implicit from a name so that
// callers that only know a name keep working (identity only).
struct AuditActor {
  AuditActor() = default;
  AuditActor(std::string name) : identity(std::move(name)) {}  // NOLINT(google-explicit-constructor)
  AuditActor(const char* name) : identity(name) {}             // NOLINT(google-explicit-constructor)
  std::string identity;
  std::string role;
  std::string source;
  std::string request_id;
};

// AuditEvent: one record of the CA audit chain: who did what to which
// object, when, with what result. seq, prev_hash and hash are assigned by
// the database when the record is appended and filled by reads.
struct AuditEvent {
  int64_t at = 0;
  std::string actor;   // AuditActor::identity
  std::string action;  // "issue", "refuse", "revoke", "crl", "init", "config", "break-glass", ...
  std::string ca;
  std::string object;  // the target: a serial, a CRL number, a key label
  std::string detail;
  std::string role;
  std::string source;
  std::string request_id;
  std::string result = "ok";  // "ok", or the refusal's status code name
  int64_t seq = 0;
  Bytes prev_hash;
  Bytes hash;
};

// MakeAuditEvent: an event by `actor` (all four actor fields copied); at = now.
AuditEvent MakeAuditEvent(const AuditActor& actor, std::string action, std::string ca, std::string object,
                          std::string detail, std::string result = "ok");

// AuditCheckpoint: a signed statement "record `seq` has hash `hash`".
struct AuditCheckpoint {
  int64_t seq = 0;
  int64_t at = 0;
  Bytes hash;
  std::string key_label;
  Bytes signature;  // DER ECDSA-SHA256 by the audit key over AuditCheckpointMessage
};

// AuditChainState: what the verifier needs besides the records.
struct AuditChainState {
  int64_t head_seq = 0;      // audit_head: the newest seq the writers recorded
  Bytes head_hash;
  int64_t unchained_after_start = 0;  // rows without seq written after the chain began
  int64_t legacy_rows = 0;   // rows from before migration 3 (not covered)
};

// Identity: a person known to the CA (docs/design/roles.md): a name, the
// operator certificate bound to it (issued by `ca`), and its roles (names as
// in ca/roles/roles.h: "authority", "operator", ...).
struct Identity {
  std::string name;
  std::string ca;
  std::string cert_serial;  // lower-case hex, as CertRecord::serial
  int64_t created_at = 0;
  std::vector<std::string> roles;  // sorted
};

// Delivery: one update package built by `certvault-ca provision` (table
// provision_deliveries, migration 6; docs/design/provisioning.md). Hex fields
// are lower-case. receipt_at = 0 while no receipt has closed it.
struct Delivery {
  int64_t id = 0;              // assigned by the database
  std::string ca;              // the issuing CA's name
  std::string target_serial;   // the vault's token serial
  uint64_t counter = 0;        // the update counter the package moves the vault to
  std::string kind = "key";    // "key", "renew", "delete", "capacity"
  std::string key_id;          // hex CKA_ID of the key it delivers, renews or deletes ("" for capacity)
  std::string cert_serial;     // hex serial of the certificate it delivers ("" for delete, capacity)
  std::string package_hash;    // hex SHA-256 of the whole package file (unique)
  std::string identity_key;    // hex SHA-256 of the requesting vault's identity public key (SPKI DER)
  int64_t expires_at = 0;
  int64_t created_at = 0;      // 0: now
  std::string actor;           // filled by reads: the AuditActor identity that built it
  std::string receipt_result;  // "" until a receipt closes it
  int64_t receipt_at = 0;
};

// DeliveryReceipt: what a verified receipt states (provision::UpdateReceipt).
struct DeliveryReceipt {
  std::string package_hash;  // hex
  std::string target_serial;
  uint64_t counter = 0;
  std::string key_id;        // hex
  std::string identity_key;  // hex SHA-256 of the receipt signer's SPKI
  std::string result;
};

// Revocation: one revoke request.
struct Revocation {
  std::string serial;
  int reason = 0;
  int64_t invalidity_date = 0;
};

class CertDb {
 public:
  virtual ~CertDb() = default;

  // InsertCertificates: inserts all `records` and one audit event per record
  // in a single transaction (group commit). For each record, `out_inserted`
  // says whether it went in; false means its serial already existed (the
  // caller re-signs with a new serial). Nothing is committed on error.
  // `refusals` (refused requests of the same batch) are appended to the
  // audit chain in the same transaction.
  virtual Status InsertCertificates(std::span<const CertRecord> records, const AuditActor& actor,
                                    std::vector<bool>& out_inserted,
                                    std::span<const AuditEvent> refusals = {}) = 0;
  // FindBySerial: kNotFound when `ca` issued no certificate with `serial`.
  virtual Result<CertRecord> FindBySerial(const std::string& ca, const std::string& serial) = 0;
  // List: newest first, at most `limit`; `subject_like` filters by substring.
  virtual Result<std::vector<CertRecord>> List(const std::string& ca, const std::string& subject_like,
                                               size_t limit) = 0;
  // Revoke: marks the certificates revoked and appends revocation rows, in
  // one transaction with one audit event each. kNotFound names an unknown
  // serial; kFailedPrecondition an already revoked one; either way nothing
  // of the batch is changed. O(1) per serial (indexed lookups, no CRL work).
  virtual Status Revoke(const std::string& ca, std::span<const Revocation> revocations, int64_t now,
                        const AuditActor& actor) = 0;
  // Revoked: revocations of `ca` with id > after_id whose certificate has not
  // expired at `now` (expired entries drop off the CRL), in id order.
  // partitions > 1: only certificates whose partition is `partition`.
  virtual Result<std::vector<RevokedEntry>> Revoked(const std::string& ca, int64_t after_id, int64_t now,
                                                    uint32_t partition, uint32_t partitions) = 0;
  // MaxRevocationId: the newest revocation id of `ca` (0 if none).
  virtual Result<int64_t> MaxRevocationId(const std::string& ca) = 0;
  // RevokedForCrl: MaxRevocationId and Revoked(...) read as one snapshot in
  // which no revocation with a smaller id is still uncommitted, so a CRL's
  // high-water mark never skips a revocation that commits later (a delta
  // after it would miss that revocation too, until the next full CRL).
  virtual Result<std::vector<RevokedEntry>> RevokedForCrl(const std::string& ca, int64_t after_id, int64_t now,
                                                          uint32_t partition, uint32_t partitions,
                                                          int64_t* out_max_id) = 0;
  // StoreCrl: allocates the next CRL number of `ca` (RFC 5280 §5.2.3: one
  // increasing sequence for full and delta CRLs), lets `build` produce the DER
  // for it, and stores the CRL with an audit event, all in one transaction.
  virtual Result<CrlRecord> StoreCrl(CrlRecord crl, const AuditActor& actor,
                                     const std::function<Result<Bytes>(CrlRecord&)>& build) = 0;
  // LatestCrl: the newest full (delta=false) or delta CRL; kNotFound if none.
  virtual Result<CrlRecord> LatestCrl(const std::string& ca, bool delta, uint32_t partition) = 0;
  // AddAudit / ListAudit: the audit events table. AddAudit appends one
  // record to the chain in its own transaction.
  virtual Status AddAudit(const AuditEvent& event) = 0;
  virtual Result<std::vector<AuditEvent>> ListAudit(size_t limit) = 0;
  // ReadAuditChain: the chained records with seq >= from_seq and at >= since,
  // in seq order, one at a time to `fn` (a failing fn stops the read).
  virtual Status ReadAuditChain(int64_t from_seq, int64_t since,
                                const std::function<Status(const AuditEvent&)>& fn) = 0;
  virtual Result<AuditChainState> ReadAuditState() = 0;
  // StoreCheckpoint / ListCheckpoints (seq order): audit_checkpoints.
  virtual Status StoreCheckpoint(const AuditCheckpoint& cp) = 0;
  virtual Result<std::vector<AuditCheckpoint>> ListCheckpoints() = 0;
  // RevocationRows: every revocations row of `ca` (expired ones too), and
  // every certificates row of `ca` marked revoked, as (serial -> entry).
  virtual Result<std::vector<CertRecord>> RevocationRows(const std::string& ca, bool from_certificates) = 0;
  // SetAppendObserver: called after every commit that appended audit
  // records, with the new head (seq, hash), on the committing thread.
  virtual void SetAppendObserver(std::function<void(int64_t seq, const Bytes& hash)> observer) = 0;
  // HasRevokeRecord: whether the audit chain holds a successful "revoke"
  // record of (ca, serial) (one indexed lookup: audit_events_revoke).
  virtual Result<bool> HasRevokeRecord(const std::string& ca, const std::string& serial) = 0;
  // SetAuditForBenchmark: false stops audit records altogether. Only for
  // bench/ (the "auditing off" baseline of certvault-ca-bench); never in the CA.
  virtual void SetAuditForBenchmark(bool enabled) { (void)enabled; }
  // MetaValue / SetMetaValue: ca_meta entries ("" when absent).
  virtual Result<std::string> GetMeta(const std::string& key) = 0;
  virtual Status SetMeta(const std::string& key, const std::string& value) = 0;
  // Identities (ca_users, ca_user_roles; sql_cert_db_users.cc). Each change
  // commits together with its audit event `event`. The defaults answer
  // kUnimplemented (test doubles that do not need identities).
  // AddIdentity: kAlreadyExists for a name or certificate already bound.
  virtual Status AddIdentity(const Identity& identity, const AuditEvent& event);
  // RemoveIdentity: the identity and its roles; kNotFound if unknown.
  virtual Status RemoveIdentity(const std::string& name, const AuditEvent& event);
  // SetRole: grants (`grant`) or takes away `role`; kNotFound for an unknown
  // identity. The caller checked the rules (CheckGrant).
  virtual Status SetRole(const std::string& name, const std::string& role, bool grant, const AuditEvent& event);
  // FindIdentity / FindIdentityByCert: kNotFound if none.
  virtual Result<Identity> FindIdentity(const std::string& name);
  virtual Result<Identity> FindIdentityByCert(const std::string& ca, const std::string& serial);
  virtual Result<std::vector<Identity>> ListIdentities();
  // Deliveries (provision_deliveries; sql_cert_db_provision.cc). Defaults
  // answer kUnimplemented. RecordDeliveries: all rows and one "provision"
  // audit event each, in one transaction; kAlreadyExists (nothing stored)
  // for a package hash already recorded.
  virtual Status RecordDeliveries(std::span<const Delivery> deliveries, const AuditActor& actor);
  // CloseDelivery: records the receipt of the package `r.package_hash` with a
  // "provision-receipt" audit event, in one transaction. kNotFound for an
  // unknown package, kAlreadyExists when a receipt closed it already,
  // kDataInvalid when the receipt's target, counter, key id or signer
  // (identity key) differ from the delivery's; nothing changes on any error.
  virtual Result<Delivery> CloseDelivery(const DeliveryReceipt& r, const AuditActor& actor);
  // ListDeliveries: newest first, at most `limit`; `target_serial` "" = all.
  virtual Result<std::vector<Delivery>> ListDeliveries(const std::string& target_serial, size_t limit);
  // CountCertificates: how many certificates `ca` has issued.
  virtual Result<int64_t> CountCertificates(const std::string& ca) = 0;
  // CheckIntegrity: kDataLoss when the database is damaged (SQLite: PRAGMA
  // quick_check; PostgreSQL: the schema version and a full read of the
  // revocations and CRL counters, which fails on checksum errors). Run once
  // per process before the first signature; costs a pass over the file.
  virtual Status CheckIntegrity() = 0;
  // LastCrlNumber: the last CRL number allocated for (ca, partition), 0 if
  // none. RaiseCrlNumber: the next one allocated will be at least `next`.
  virtual Result<int64_t> LastCrlNumber(const std::string& ca, uint32_t partition) = 0;
  virtual Status RaiseCrlNumber(const std::string& ca, uint32_t partition, int64_t next) = 0;

  // Shared state of `serve` processes (migration 5; sql_cert_db_shared.cc).
  // The defaults answer kUnimplemented (test doubles).
  // AddEnrollCode: stores `row` and, in the same transaction, deletes codes
  // that expired before `purge_before`. kAlreadyExists for a known id.
  virtual Status AddEnrollCode(const EnrollCodeRow& row, int64_t purge_before);
  // FindEnrollCode: kNotFound for an unknown id.
  virtual Result<EnrollCodeRow> FindEnrollCode(const std::string& id);
  // BurnEnrollCode: marks the code used at `now` if, at that moment, it is
  // unused, unexpired and for `profile`: one conditional UPDATE, so of
  // several processes burning one code exactly one succeeds; the others get
  // kPermissionDenied and nothing changes.
  virtual Status BurnEnrollCode(const std::string& id, const std::string& profile, int64_t now);
  // ReturnEnrollCode: makes a code burnt at `used_at` unused again (the
  // request it was burnt for was refused). OK if it was not burnt then.
  virtual Status ReturnEnrollCode(const std::string& id, int64_t used_at);
  // ClaimCmpTransaction: claims transactionID `tid` (hex) of `ca` for the
  // caller, under the token `claim` (random, the caller's). Returns
  // claimed=true when the caller may issue (a new transactionID, or a claim
  // older than `lease_s` seconds whose holder never finished: it crashed),
  // or the serial already issued for it; kAlreadyExists while another live
  // claim holds it. Committed before it returns (visible to other processes).
  virtual Result<CmpClaim> ClaimCmpTransaction(const std::string& ca, const std::string& tid,
                                               const std::string& claim, int64_t now, int64_t lease_s);
  // ReleaseCmpTransaction: drops the caller's unfinished claim (the request
  // was refused: the transactionID may be used again). OK if none.
  virtual Status ReleaseCmpTransaction(const std::string& ca, const std::string& tid, const std::string& claim);
  // ImportCmpTransaction: records `tid` -> `serial` unless `tid` is known
  // (the legacy DIR/cmp-transactions file, read once). Idempotent.
  virtual Status ImportCmpTransaction(const std::string& ca, const std::string& tid, const std::string& serial,
                                      int64_t at);
};

struct DbOpenOptions {
  // create: make the database (and its schema) if there is none; only init
  // does this. Otherwise a missing, empty or foreign database is refused.
  bool create = false;
  // ca_name: ca.toml's [ca] name; the database must belong to it (recorded
  // by init in ca_meta). Empty: not checked (tests, tools).
  std::string ca_name;
};

// OpenCertDb: "sqlite:PATH" opens a SQLite database (created with mode 0600
// when options.create); anything else is a libpq connection string
// ("postgresql://..." or "host=... dbname=..."). Runs pending migrations.
// kUnavailable when the server is unreachable; kFailedPrecondition for a
// missing, empty or foreign database (without options.create).
Result<std::unique_ptr<CertDb>> OpenCertDb(const std::string& url, const DbOpenOptions& options = {});

// PartitionOf: the CRL partition of a serial (stable: from its last byte).
uint32_t PartitionOf(const std::string& serial_hex, uint32_t partitions);
// PartitionUrl: the URL of partition `partition`'s CRL: ".../full.crl" becomes
// ".../full-p3.crl" ("-p3" appended without a ".crl" suffix). Unchanged
// when partitions <= 1.
std::string PartitionUrl(const std::string& url, uint32_t partition, uint32_t partitions);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_DB_CERT_DB_H_
