// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CaInstance: an opened CA directory: ca.toml, the database, the token and
// the CA certificates (root.pem, issuing.pem, ocsp.pem written by init). Key
// labels in the token and CA names in the database are "<name>-root",
// "<name>-issuing" and "<name>-ocsp" (<name> from [ca] name), with "-gN"
// appended from key generation 2 on (generations.h): Name, CertPath, Cert
// and Key name the current generation; the *Of variants any generation.
#ifndef CERTVAULT_CA_INSTANCE_CA_INSTANCE_H_
#define CERTVAULT_CA_INSTANCE_CA_INSTANCE_H_

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ca/audit/audit_checkpointer.h"
#include "ca/audit/audit_verify.h"
#include "ca/config/ca_config.h"
#include "ca/db/cert_db.h"
#include "ca/instance/ca_state.h"
#include "ca/instance/generations.h"
#include "ca/p11/ca_key.h"

namespace certvault::ca {

enum class CaRole { kRoot, kIssuing, kOcsp };

class CaInstance {
 public:
  // Open: config + database; with `token`, also logs in to the token.
  // `pin_file`, when non-empty, replaces ca.toml's PIN source. Only with
  // `create_db` (init) is a missing database created; otherwise a missing,
  // empty or foreign one is kFailedPrecondition.
  static Result<std::unique_ptr<CaInstance>> Open(const std::string& dir, bool token, const std::string& pin_file = "",
                                                  bool create_db = false);
  // Init: creates the hierarchy (see ca_init.cc) in an opened instance.
  // external_root: only the issuing key and DIR/issuing.csr are produced.
  Status Init(bool external_root, const AuditActor& actor);
  // InstallIssuing: an externally signed issuing certificate + its root.
  Status InstallIssuing(const std::string& cert_pem_path, const std::string& root_pem_path, const AuditActor& actor);

  // RotateOcspSigner: a new OCSP signing key in the token and a new
  // certificate for it (ocsp.pem, chain.pem); the previous key is destroyed
  // first (it never signs again) and its certificate revoked as superseded.
  // Resumable: rerun after a failure. REQUIRES: PrepareToSign succeeded.
  Status RotateOcspSigner(const AuditActor& actor);
  // ReloadOcspSigner: drops the cached OCSP certificate and key so that
  // Cert/Key read them anew (after a rotation by another process). The old
  // objects stay alive (a responder may still hold them) until the
  // instance goes.
  void ReloadOcspSigner();
  // IssueServerCert: the TLS server identity of `serve` (ca_server_cert.cc):
  // a new P-256 key pair labelled `key_label` in the token (an older one of
  // that label is destroyed first), a certificate for it from the issuing CA
  // (serverAuth, the subjectAltNames `sans`, e.g. "IP:127.0.0.1"), stored in
  // the database and written with the issuing certificate to `cert_path`.
  // REQUIRES: PrepareToSign succeeded.
  Status IssueServerCert(const std::string& key_label, const std::vector<std::string>& sans,
                         const std::string& cert_path, const AuditActor& actor);

  // Audit trail (ca_audit.cc, docs/design/ca.md "Audit trail").
  ~CaInstance();
  // RecordBreakGlass: an offline command holding the token PIN (today every
  // state-changing command) is recorded and alerted as break-glass use.
  Status RecordBreakGlass(const AuditActor& actor, const std::string& command);
  // VerifyAudit: the chain checked with the audit key (audit-key.pem of the
  // instance, or `key_path`); `checkpoint_line` (one syslog line) anchors it.
  // A failed verification raises the audit-verify-failed alert.
  Result<AuditVerifyReport> VerifyAudit(const std::string& key_path, const std::string& checkpoint_line);
  // CheckAuditForCrl: the chain verifies and the revocations of `ca` are
  // exactly what it records; kDataLoss naming the fix otherwise (alerted).
  Status CheckAuditForCrl(const std::string& ca);
  // FlushAudit: a signed checkpoint of the newest record (end of a command).
  Status FlushAudit();
  std::string AuditKeyPath() const { return config_.dir + "/audit-key.pem"; }
  std::string AuditKeyLabel() const { return config_.name + "-audit"; }

  // IssueOperatorCert: the operator certificate of identity `name`
  // (ca_operator_cert.cc, docs/design/roles.md): the key of the CSR `csr`
  // (PEM or DER; its self-signature checked), subject CN=name plus the CA's
  // O, clientAuth, built-in internal profile "operator" (not usable by
  // `issue` or EST). Stored in the database; the serial (hex) and the DER
  // are returned. REQUIRES: PrepareToSign succeeded.
  Result<std::pair<std::string, Bytes>> IssueOperatorCert(const std::string& name, std::span<const uint8_t> csr,
                                                          const std::string& actor);

  // Rollover (ca_rollover.cc): a new issuing key generation (and with
  // `root`, a new root key first, plus the two link certificates of RFC
  // 4210 §4.4); see docs/design/ca.md "Key rollover". Everything new is
  // made and stored before DIR/generations is rewritten, the commit point:
  // a failure or crash before it leaves the old generation current (a rerun
  // destroys the half-made keys and starts over). kPermissionDenied when
  // policy.toml does not allow the key type; kFailedPrecondition with an
  // external root. REQUIRES: PrepareToSign succeeded.
  Status Rollover(bool root, const AuditActor& actor);

  // config: ca.toml, with the current generation's CRL URLs (crl_url,
  // delta_crl_url, root_crl_url carry its "-gN"), so what is issued now
  // points at its own issuer's CRLs.
  const CaConfig& config() const { return config_; }
  CertDb& db() { return *db_; }
  const KeyGenerations& generations() const { return gens_; }
  // Generation: the current generation of `role` (kOcsp follows kIssuing).
  uint32_t Generation(CaRole role) const;
  std::string Name(CaRole role) const { return NameOf(role, Generation(role)); }
  std::string NameOf(CaRole role, uint32_t gen) const;
  std::string CertPath(CaRole role) const { return CertPathOf(role, Generation(role)); }
  std::string CertPathOf(CaRole role, uint32_t gen) const;
  // CrlUrlOf / DeltaCrlUrlOf: ca.toml's URLs for generation `gen`'s CRLs.
  std::string CrlUrlOf(CaRole role, uint32_t gen) const;
  std::string DeltaCrlUrlOf(uint32_t gen) const;
  // Cert: the role's certificate (loaded on demand). kFailedPrecondition
  // before init.
  Result<X509*> Cert(CaRole role);
  // Key: the role's key in the token (opened on demand).
  Result<CaKey*> Key(CaRole role);
  // CertOf / KeyOf: of any generation (the current one: Cert, Key). Loaded
  // once, kept for the instance's lifetime.
  Result<X509*> CertOf(CaRole role, uint32_t gen);
  Result<CaKey*> KeyOf(CaRole role, uint32_t gen);
  // LiveRetired: the retired generations of `role` (kRoot or kIssuing) whose
  // certificate has not expired at `now`: they still sign CRLs (and, for
  // issuing generations, OCSP answers) for what they issued, oldest first.
  std::vector<uint32_t> LiveRetired(CaRole role, int64_t now);
  // ExpiredWithKeys (ca_retire.cc): the retired generations of `role` whose
  // certificate has expired at `now` while their key is still in the token,
  // oldest first. Each owes one last full CRL (RFC 5280 §3.3: an entry stays
  // "until it appears on one regularly scheduled CRL issued beyond the
  // revoked certificate's validity period") and is then retired. Errors
  // other than a missing key or certificate are returned.
  Result<std::vector<uint32_t>> ExpiredWithKeys(CaRole role, int64_t now);
  // RetireGeneration: the end of generation `gen`'s crypto-period (SP 800-57
  // Part 1 §8.3.4, keys "destroyed ... as soon as they are no longer
  // needed"): destroys its key in the token (for kIssuing also its OCSP
  // signer's) and audits `retire`. kFailedPrecondition for the current
  // generation or one whose certificate has not expired at `now`.
  // Idempotent. REQUIRES: the token is open.
  Status RetireGeneration(CaRole role, uint32_t gen, int64_t now, const AuditActor& actor);

  // Guards before signing (ca_guard.cc; the token must be open).
  // PrepareToSign: once per process, before its first signature: the
  // database's integrity (CertDb::CheckIntegrity), that it is not older than
  // the token's CaState (CRL numbers, revocations: a restored backup), and
  // CheckClock; then records the signing time in the token. Later calls
  // only run CheckClock. The message of an error names the fix.
  Status PrepareToSign();
  // CheckClock: kFailedPrecondition when the clock is before a CA
  // certificate's notBefore, before the last signature the token recorded,
  // or more than max_clock_skew_seconds away from time_source (if set).
  Status CheckClock();
  // CheckCrlNumber: kFailedPrecondition unless `number` is above the last
  // CRL number the token recorded for (ca, partition).
  Status CheckCrlNumber(const std::string& ca, uint32_t partition, int64_t number);
  // RecordCrl / RecordRevocations / RecordSigningTime: after a commit, raise
  // the token's CaState to what the database now holds.
  Status RecordCrl(const CrlRecord& crl);
  Status RecordRevocations(const std::string& ca);
  Status RecordSigningTime();
  // AcceptRestoredDatabase: after an operator restored an older database
  // (and re-entered the revocations it lost): CRL counters are moved above
  // the token's numbers and the token's revocation marks set to the
  // database's. Audited.
  Status AcceptRestoredDatabase(const AuditActor& actor);

 private:
  CaInstance() = default;
  Status IssueOcspSigner(const AuditActor& actor, const char* action, const char* audit_detail);
  // IssueOcspSignerOf: a new OCSP key of generation `gen` in the token, its
  // certificate from that generation's issuing key (URLs from `cfg`),
  // written to its ocsp file and stored.
  Status IssueOcspSignerOf(uint32_t gen, const CaConfig& cfg, const AuditActor& actor);
  Status CheckNotRestored(const CaState& state);
  Status CheckTimeSource(int64_t now);
  // UpdateState: read the token's CaState, apply `change`, merge, write.
  Status UpdateState(const std::function<void(CaState&)>& change);
  Status StoreCaCert(CaRole signer, const Bytes& der, const std::string& subject, const std::string& profile,
                     const AuditActor& actor);

  // StartAudit: opens (or, on the first start with this build, creates) the
  // audit key in the token, writes audit-key.pem, starts checkpointing.
  Status StartAudit();
  // RecordConfigLoad: a "config" record when ca.toml differs from the last load.
  Status RecordConfigLoad();

  // Rollover steps (ca_rollover.cc).
  Result<X509*> RollRoot(uint32_t gen, const AuditActor& actor);
  Status IssueLinkCerts(uint32_t old_gen, uint32_t new_gen, const AuditActor& actor);
  Status IssueIssuingCert(uint32_t root_gen, uint32_t gen, const AuditActor& actor);
  Status WriteChain(uint32_t issuing_gen, uint32_t root_gen, const std::string& path);
  Status StoreCaCertAs(const std::string& signer_name, const Bytes& der, const std::string& subject,
                       const std::string& profile, const AuditActor& actor);

  CaConfig config_;
  struct {
    std::string crl, delta, root;
  } base_urls_;  // ca.toml's CRL URLs before the generation suffix
  KeyGenerations gens_;
  std::unique_ptr<CertDb> db_;
  std::unique_ptr<CaToken> token_;
  ossl::UniquePtr<X509> certs_[3];
  std::unique_ptr<CaKey> keys_[3];
  std::vector<ossl::UniquePtr<X509>> retired_certs_;
  std::vector<std::unique_ptr<CaKey>> retired_keys_;
  // Declared after token_ and db_: destroyed before them.
  std::unique_ptr<CaKey> audit_key_;
  std::unique_ptr<AuditCheckpointer> checkpointer_;
  // Other key generations' certificates (by path) and keys (by label); after
  // token_, so that the keys go before the token they use.
  std::map<std::string, ossl::UniquePtr<X509>> gen_certs_;
  std::map<std::string, std::unique_ptr<CaKey>> gen_keys_;
  bool prepared_ = false;
  int64_t clock_floor_ = 0;         // the last recorded signature (CaState::last_signed)
  int64_t time_source_checked_ = 0; // when time_source last answered
};

// ReadPemCert / WritePem: certificate files of the instance.
Result<ossl::UniquePtr<X509>> ReadPemCert(const std::string& path);
// WriteFile: atomically (temporary file, fsync, rename).
Status WriteFile(const std::string& path, std::string_view data);
// CheckWritable: `path` can be written (its directory exists and is
// writable; it is not a directory). Checked before anything is signed.
Status CheckWritable(const std::string& path);
Result<Bytes> CertDer(X509* cert);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_INSTANCE_CA_INSTANCE_H_
