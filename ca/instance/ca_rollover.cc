// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CaInstance::Rollover: a new key generation (docs/design/ca.md "Key
// rollover"). For generation N of the issuing CA:
//   <name>-issuing-gN  new key in the token, issuing-gN.pem from the current
//                      (or, with a root roll, the new) root
//   <name>-ocsp-gN     its delegated OCSP signer, ocsp-gN.pem
//   chain-gN.pem       issuing-gN + its root
// With a root roll (root generation M) first:
//   <name>-root-gM     new self-signed root, root-gM.pem
//   root-gM-old-with-new.pem  the old root's key certified by the new root
//   root-gM-new-with-old.pem  the new root's key certified by the old root
// (RFC 4210 §4.4). Then DIR/generations is rewritten (the commit point) and
// chain.pem, issuing.pem's successor, follows.
#include <unistd.h>

#include <ctime>

#include "ca/instance/ca_build.h"
#include "ca/instance/ca_instance.h"
#include "ca/instance/subject.h"
#include "ca/policy/policy_check.h"
#include "ca/policy/policy_violation.h"
#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

using internal::Build;
using internal::BuildFor;
using internal::Built;
using internal::CaProfile;
using internal::WritePem;

// SubjectOf: a certificate's subject as entries (for a link certificate
// that must name the old root exactly as it names itself).
Result<std::vector<SubjectEntry>> SubjectOf(X509* cert) {
  std::vector<SubjectEntry> entries;
  const X509_NAME* name = X509_get_subject_name(cert);
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    const char* field = OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)));
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    if (field == nullptr || len < 0) return InternalError("cannot read the root's subject");
    entries.push_back({field, std::string(reinterpret_cast<char*>(utf8), static_cast<size_t>(len))});
    OPENSSL_free(utf8);
  }
  return entries;
}

// DaysUntil: whole days from now to `t` (at least 1).
uint32_t DaysUntil(const ASN1_TIME* t) {
  int days = 0, secs = 0;
  if (ASN1_TIME_diff(&days, &secs, nullptr, t) != 1 || days < 1) return 1;
  return static_cast<uint32_t>(days);
}

}  // namespace

Status CaInstance::Rollover(bool root, const AuditActor& actor) {
  if (token_ == nullptr) return FailedPreconditionError("the token is not open");
  std::string type(KeyAlgorithmName(config_.key_algorithm));
  if (config_.policy != nullptr && !KeyTypeAllowed(*config_.policy, type)) {
    Status refused = PermissionDeniedError("rollover refused: policy.toml does not allow the key type " + type +
                                           " (ca.toml key_algorithm)");
    (void)RecordPolicyViolation(*db_, config_.audit, actor, Name(CaRole::kIssuing), "rollover",
                                "[algorithms] allowed_key_types (ca.toml key_algorithm)", refused);
    return refused;
  }
  if (!Key(CaRole::kRoot).ok() || !Cert(CaRole::kRoot).ok()) {
    return FailedPreconditionError("rollover needs the root key in the token; with an external root, make a new "
                                   "instance for the new issuing CA");
  }
  if (gens_.issuing >= kMaxGeneration || gens_.root >= kMaxGeneration) {
    return ResourceExhaustedError("no key generation is left");
  }
  KeyGenerations next{root ? gens_.root + 1 : gens_.root, gens_.issuing + 1};
  // A rerun after a crash: the uncommitted generation's keys never signed
  // anything that became current; they go, and everything is made anew.
  for (const std::string& label : {NameOf(CaRole::kIssuing, next.issuing), NameOf(CaRole::kOcsp, next.issuing),
                                   root ? NameOf(CaRole::kRoot, next.root) : std::string()}) {
    if (!label.empty()) CV_RETURN_IF_ERROR(token_->DestroyKeyPair(label));
  }
  if (root) {
    CV_RETURN_IF_ERROR(RollRoot(next.root, actor).status());
    CV_RETURN_IF_ERROR(IssueLinkCerts(gens_.root, next.root, actor));
  }
  CV_RETURN_IF_ERROR(IssueIssuingCert(next.root, next.issuing, actor));
  std::string suffix = GenerationSuffix(next.issuing);
  CV_RETURN_IF_ERROR(WriteChain(next.issuing, next.root, config_.dir + "/chain" + suffix + ".pem"));
  // The commit point: from here on the new generation issues.
  CV_RETURN_IF_ERROR(SaveGenerations(config_.dir, next));
  KeyGenerations old = gens_;
  for (auto& cert : certs_) retired_certs_.push_back(std::move(cert));  // borrowed by callers: kept alive
  for (auto& key : keys_) retired_keys_.push_back(std::move(key));
  gens_ = next;
  config_.crl_url = CrlUrlOf(CaRole::kIssuing, gens_.issuing);
  config_.delta_crl_url = DeltaCrlUrlOf(gens_.issuing);
  config_.root_crl_url = CrlUrlOf(CaRole::kRoot, gens_.root);
  CV_RETURN_IF_ERROR(WriteChain(gens_.issuing, gens_.root, config_.dir + "/chain.pem"));
  std::string detail = "issuing generation " + std::to_string(old.issuing) + " -> " + std::to_string(next.issuing);
  if (root) detail += ", root generation " + std::to_string(old.root) + " -> " + std::to_string(next.root);
  return db_->AddAudit(MakeAuditEvent(actor, "rollover", Name(CaRole::kIssuing), "generations", detail));
}

Result<X509*> CaInstance::RollRoot(uint32_t gen, const AuditActor& actor) {
  CV_RETURN_IF_ERROR(token_->GenerateKeyPair(NameOf(CaRole::kRoot, gen), config_.key_algorithm, quorum_op_));
  CV_ASSIGN_OR_RETURN(CaKey * key, KeyOf(CaRole::kRoot, gen));
  CV_ASSIGN_OR_RETURN(CertTemplate tmpl, CertTemplate::Create(CaProfile("root-ca", config_.root_days, -1), config_, nullptr));
  CV_ASSIGN_OR_RETURN(Built cert, Build(tmpl, config_.root_subject, *key, *key));
  CV_RETURN_IF_ERROR(WritePem(CertPathOf(CaRole::kRoot, gen), cert.der, "CERTIFICATE"));
  CV_RETURN_IF_ERROR(StoreCaCertAs(NameOf(CaRole::kRoot, gen), cert.der, cert.subject, "root-ca", actor));
  return CertOf(CaRole::kRoot, gen);
}

// IssueLinkCerts: RFC 4210 §4.4: "OldWithNew: the old public key signed
// with the new private key; NewWithOld: the new public key signed with the
// old private key". Clients that trust only the old root reach the new
// generation through NewWithOld, clients given only the new root reach
// the old generation's certificates through OldWithNew. Both end when the
// old root does.
Status CaInstance::IssueLinkCerts(uint32_t old_gen, uint32_t new_gen, const AuditActor& actor) {
  CV_ASSIGN_OR_RETURN(X509 * old_cert, CertOf(CaRole::kRoot, old_gen));
  CV_ASSIGN_OR_RETURN(X509 * new_cert, CertOf(CaRole::kRoot, new_gen));
  CV_ASSIGN_OR_RETURN(CaKey * old_key, KeyOf(CaRole::kRoot, old_gen));
  CV_ASSIGN_OR_RETURN(CaKey * new_key, KeyOf(CaRole::kRoot, new_gen));
  uint32_t days = DaysUntil(X509_get0_notAfter(old_cert));
  std::string base = config_.dir + "/root" + GenerationSuffix(new_gen);
  CV_ASSIGN_OR_RETURN(CertTemplate by_new, CertTemplate::Create(CaProfile("root-link", days, -1), config_, new_cert));
  CV_ASSIGN_OR_RETURN(std::vector<SubjectEntry> old_subject, SubjectOf(old_cert));
  CV_ASSIGN_OR_RETURN(Built old_with_new, BuildFor(by_new, old_subject, *old_key, *new_key));
  CV_RETURN_IF_ERROR(WritePem(base + "-old-with-new.pem", old_with_new.der, "CERTIFICATE"));
  CV_RETURN_IF_ERROR(StoreCaCertAs(NameOf(CaRole::kRoot, new_gen), old_with_new.der, old_with_new.subject,
                                   "root-link", actor));
  CV_ASSIGN_OR_RETURN(CertTemplate by_old, CertTemplate::Create(CaProfile("root-link", days, -1), config_, old_cert));
  CV_ASSIGN_OR_RETURN(std::vector<SubjectEntry> new_subject, SubjectOf(new_cert));
  CV_ASSIGN_OR_RETURN(Built new_with_old, BuildFor(by_old, new_subject, *new_key, *old_key));
  CV_RETURN_IF_ERROR(WritePem(base + "-new-with-old.pem", new_with_old.der, "CERTIFICATE"));
  return StoreCaCertAs(NameOf(CaRole::kRoot, old_gen), new_with_old.der, new_with_old.subject, "root-link", actor);
}

// IssueIssuingCert: generation `gen`'s issuing key and certificate (as init
// makes them, signed by root generation `root_gen`) and its OCSP signer.
Status CaInstance::IssueIssuingCert(uint32_t root_gen, uint32_t gen, const AuditActor& actor) {
  CV_RETURN_IF_ERROR(token_->GenerateKeyPair(NameOf(CaRole::kIssuing, gen), config_.key_algorithm, quorum_op_));
  CV_ASSIGN_OR_RETURN(CaKey * key, KeyOf(CaRole::kIssuing, gen));
  CV_ASSIGN_OR_RETURN(X509 * root_cert, CertOf(CaRole::kRoot, root_gen));
  CV_ASSIGN_OR_RETURN(CaKey * root_key, KeyOf(CaRole::kRoot, root_gen));
  Profile ip = CaProfile("issuing-ca", config_.issuing_days, config_.issuing_path_len);
  ip.permitted_names = config_.permitted_names;
  ip.excluded_names = config_.excluded_names;
  ip.crl_dp = CrlUrlOf(CaRole::kRoot, root_gen);  // the ARL of the root that signs it
  CV_ASSIGN_OR_RETURN(CertTemplate tmpl, CertTemplate::Create(ip, config_, root_cert));
  CV_ASSIGN_OR_RETURN(Built issuing, Build(tmpl, config_.issuing_subject, *key, *root_key));
  CV_RETURN_IF_ERROR(WritePem(CertPathOf(CaRole::kIssuing, gen), issuing.der, "CERTIFICATE"));
  CV_RETURN_IF_ERROR(StoreCaCertAs(NameOf(CaRole::kRoot, root_gen), issuing.der, issuing.subject, "issuing-ca", actor));
  // The new generation's leaves (and its OCSP signer) name its own CRLs.
  CaConfig cfg = config_;
  cfg.crl_url = CrlUrlOf(CaRole::kIssuing, gen);
  cfg.delta_crl_url = DeltaCrlUrlOf(gen);
  return IssueOcspSignerOf(gen, cfg, actor);
}

}  // namespace certvault::ca
