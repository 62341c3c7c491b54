// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Issuer: turns CSRs into stored certificates. Per CSR: intake (ParseCsr:
// size, syntax, proof of possession), profile rules, lint, a random serial,
// assembly and signing in the token. CSRs are processed by `threads` workers
// in parallel (each signs on its own PKCS#11 session); the results of a chunk
// are committed in one database transaction (group commit) before Issue
// returns them, so a returned certificate is always durable. A serial that
// collides in the database is replaced and the certificate signed again.
// A refused CSR yields its reason and nothing is stored.
#ifndef CERTVAULT_CA_ISSUANCE_ISSUER_H_
#define CERTVAULT_CA_ISSUANCE_ISSUER_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ca/db/cert_db.h"
#include "ca/issuance/cert_builder.h"
#include "ca/issuance/csr.h"
#include "ca/issuance/name_constraints.h"

namespace certvault::ca {

struct IssueItem {
  std::string source;  // a file name or "-" (for messages)
  Bytes csr;           // DER or PEM
  // require_subject: when set, the certificate's subject ("/CN=..." as
  // SubjectText) must be exactly this, or the CSR is refused with
  // kPermissionDenied (EST re-enrollment keeps the subject, RFC 7030 §4.2.2).
  std::string require_subject;
  // require_sans: when set, the certificate's subjectAltNames must be the
  // same set as these (the renewed certificate's, RFC 7030 §4.2.2), or the
  // CSR is refused with kPermissionDenied.
  std::optional<std::vector<x509::SanEntry>> require_sans;
  // verified: instead of `csr`, a request whose proof of possession the
  // caller verified (a CMP CertReqMsg, RFC 4211 §4: ParseVerifiedRequest).
  // It passes the same key, profile, nameConstraints and lint checks.
  std::shared_ptr<const ParsedCsr> verified;
  // actor: the requester recorded in the audit chain (an EST client);
  // unset: the Issuer's actor.
  std::optional<AuditActor> actor;
  // cmp_tid / cmp_claim: the claimed CMP transaction this certificate
  // answers (CertRecord::cmp_tid): mapped to it in the same commit.
  std::string cmp_tid;
  std::string cmp_claim;
};

struct IssueOutcome {
  std::string source;
  Status status;       // OK or why the CSR was refused
  bool policy_refused = false;  // refused by policy.toml (audited as "policy-violation" with the chunk, alerted)
  std::string serial;  // hex
  Bytes der;           // the certificate
};

struct IssuerOptions {
  uint32_t threads = 2;
  size_t chunk = 2048;  // CSRs per transaction
  bool verify = true;   // verify each signature with the CA public key
  // on_commit: called on the calling thread with each chunk's outcomes as
  // soon as the chunk is committed (also when a later chunk then fails), so
  // a caller can name every stored certificate.
  std::function<void(std::span<const IssueOutcome>)> on_commit;
};

class Issuer {
 public:
  // Issuer: `key`, `ca_cert` and `db` are borrowed and must outlive it.
  Issuer(const CaConfig& config, std::string ca_name, CaKey& key, X509* ca_cert, CertDb& db, AuditActor actor,
         IssuerOptions options);
  // Issue: one outcome per item, in order. The call fails only on a
  // database error (then the chunks in flight are not stored; earlier chunks
  // are, and their audit events say so).
  Result<std::vector<IssueOutcome>> Issue(std::span<const IssueItem> items, const std::string& profile);

 private:
  struct Chunk {
    std::span<const IssueItem> items;
    std::vector<IssueOutcome> outs;
    std::vector<CertRecord> recs;
  };
  Result<const CertTemplate*> TemplateFor(const std::string& profile);
  void SignChunk(const CertTemplate& tmpl, Chunk& c);
  void SignOne(const CertTemplate& tmpl, const IssueItem& item, IssueOutcome& out, CertRecord& rec);
  Status Commit(const CertTemplate& tmpl, std::span<const IssueItem> items, std::vector<IssueOutcome>& outs,
                std::vector<CertRecord>& recs);

  const CaConfig& config_;
  std::string ca_name_;
  CaKey& key_;
  X509* ca_cert_;
  CertDb& db_;
  AuditActor actor_;
  IssuerOptions options_;
  std::map<std::string, CertTemplate> templates_;
  // Per profile with require_attestation: its roots, loaded by TemplateFor
  // (before the signing threads start; read-only while they run).
  std::map<std::string, std::shared_ptr<X509_STORE>> attestation_roots_;
  // The issuing CA certificate's nameConstraints, read by the first Issue.
  NameConstraintSet name_constraints_;
  bool name_constraints_read_ = false;
};

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_ISSUANCE_ISSUER_H_
