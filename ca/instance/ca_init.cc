// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CaInstance::Init: the CA hierarchy. Every key is generated in the token
// (C_GenerateKeyPair); only certificates are written to the directory.
//   root     self-signed, keyCertSign + cRLSign          (skipped: external root)
//   issuing  signed by root, pathLen, nameConstraints    (external root: CSR only)
//   ocsp     signed by issuing, id-kp-OCSPSigning + id-pkix-ocsp-nocheck
#include <openssl/pem.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "ca/instance/ca_build.h"
#include "ca/instance/ca_instance.h"
#include "ca/instance/subject.h"
#include "ca/issuance/cert_builder.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"

namespace certvault::ca {
namespace internal {

Profile CaProfile(const std::string& name, uint32_t days, int path_len) {
  Profile p;
  p.name = name;
  p.days = days;
  p.is_ca = true;
  p.path_len = path_len;
  p.key_usage = {"keyCertSign", "cRLSign"};
  p.revocation_pointers = false;
  return p;
}

// OcspSignerProfile: ca.toml's internal [profiles.ocsp] (shipped by init
// from flags) or, for a ca.toml without one, the built-in equivalent. The
// validity is capped at the issuing CA's.
Profile OcspSignerProfile(const CaConfig& config) {
  Profile p;
  p.days = 365;
  p.key_usage = {"digitalSignature"};
  p.extended_key_usage = {"OCSPSigning"};
  if (auto it = config.profiles.find("ocsp"); it != config.profiles.end() && it->second.internal) p = it->second;
  p.name = "ocsp-signer";
  p.internal = false;  // the CA's own use: the template builder sees an ordinary profile
  p.days = std::min(p.days, config.issuing_days);
  p.ocsp_nocheck = true;  // RFC 6960 §4.2.2.2.1: the responder certificate is not itself checked
  // A CRL DP all the same (its partition's with partitioned CRLs): a revoked
  // signer is listed by serial, and a certificate without a CRL DP is out of
  // the scope of every partitioned CRL (RFC 5280 §5.2.5), so clients that do
  // check it could not. No AIA: an OCSP pointer to itself would be circular.
  p.revocation_pointers = true;
  p.aia = false;
  return p;
}

Result<Built> Build(const CertTemplate& tmpl, const std::string& subject, CaKey& subject_key, CaKey& signer) {
  CV_ASSIGN_OR_RETURN(std::vector<SubjectEntry> entries, SplitSubject(subject));
  return BuildFor(tmpl, std::move(entries), subject_key, signer);
}

Result<Built> BuildFor(const CertTemplate& tmpl, std::vector<SubjectEntry> entries, CaKey& subject_key, CaKey& signer) {
  CV_ASSIGN_OR_RETURN(Serial serial, NewSerial());
  CertRequest req{entries, {}, subject_key.public_key(), subject_key.public_key_info(), serial, std::time(nullptr)};
  CV_ASSIGN_OR_RETURN(BuiltCert built, BuildCertificate(tmpl, req, signer, true));
  return Built{std::move(built.der), SubjectText(entries)};
}

Status WritePem(const std::string& path, const Bytes& der, const char* label) {
  CV_ASSIGN_OR_RETURN(std::string pem, x509::PemEncode(label, der));
  return WriteFile(path, pem);
}

}  // namespace internal

using internal::Build;
using internal::Built;
using internal::CaProfile;
using internal::OcspSignerProfile;
using internal::WritePem;

Status CaInstance::StoreCaCert(CaRole signer, const Bytes& der, const std::string& subject, const std::string& profile,
                               const AuditActor& actor) {
  return StoreCaCertAs(Name(signer), der, subject, profile, actor);
}

Status CaInstance::StoreCaCertAs(const std::string& signer_name, const Bytes& der, const std::string& subject,
                                 const std::string& profile, const AuditActor& actor) {
  const uint8_t* p = der.data();
  ossl::UniquePtr<X509> cert(crypto::D2iX509(&p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  if (cert == nullptr) return InternalError("CA certificate does not parse");
  ossl::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
  Bytes serial(static_cast<size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), serial.data());
  struct tm nb, na;
  ASN1_TIME_to_tm(X509_get0_notBefore(cert.get()), &nb);
  ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &na);
  CertRecord rec{signer_name, HexEncode(serial), subject, profile, timegm(&nb), timegm(&na), der};
  std::vector<bool> inserted;
  CV_RETURN_IF_ERROR(db_->InsertCertificates(std::span<const CertRecord>(&rec, 1), actor, inserted));
  if (!inserted[0]) return InternalError("CA certificate serial collision");
  return OkStatus();
}

Status CaInstance::Init(bool external_root, const AuditActor& actor) {
  if (token_ == nullptr) return FailedPreconditionError("the token is not open");
  if (access(CertPath(CaRole::kIssuing).c_str(), F_OK) == 0) {
    return AlreadyExistsError("the CA in " + config_.dir + " is already initialized");
  }
  if (!external_root) {
    if (config_.root_subject.empty()) return InvalidArgumentError("ca.toml: [ca] root_subject is required");
    CV_RETURN_IF_ERROR(token_->GenerateKeyPair(Name(CaRole::kRoot), config_.key_algorithm, quorum_op_));
    CV_ASSIGN_OR_RETURN(CaKey * root_key, Key(CaRole::kRoot));
    CV_ASSIGN_OR_RETURN(CertTemplate tmpl, CertTemplate::Create(CaProfile("root-ca", config_.root_days, -1), config_, nullptr));
    CV_ASSIGN_OR_RETURN(Built root, Build(tmpl, config_.root_subject, *root_key, *root_key));
    CV_RETURN_IF_ERROR(WritePem(CertPath(CaRole::kRoot), root.der, "CERTIFICATE"));
    CV_RETURN_IF_ERROR(StoreCaCert(CaRole::kRoot, root.der, root.subject, "root-ca", actor));
  }
  CV_RETURN_IF_ERROR(token_->GenerateKeyPair(Name(CaRole::kIssuing), config_.key_algorithm, quorum_op_));
  CV_ASSIGN_OR_RETURN(CaKey * issuing_key, Key(CaRole::kIssuing));
  if (external_root) {
    x509::CsrSpec spec{issuing_key->public_key_info(), config_.issuing_subject, {}, issuing_key->algorithm()};
    CV_ASSIGN_OR_RETURN(Bytes csr, x509::BuildCsr(spec, issuing_key->AsSigner()));
    CV_RETURN_IF_ERROR(WritePem(config_.dir + "/issuing.csr", csr, "CERTIFICATE REQUEST"));
    return db_->AddAudit(MakeAuditEvent(actor, "init", Name(CaRole::kIssuing), "issuing.csr", "external root: CSR written"));
  }
  CV_ASSIGN_OR_RETURN(X509 * root_cert, Cert(CaRole::kRoot));
  CV_ASSIGN_OR_RETURN(CaKey * root_key, Key(CaRole::kRoot));
  Profile ip = CaProfile("issuing-ca", config_.issuing_days, config_.issuing_path_len);
  ip.permitted_names = config_.permitted_names;
  ip.crl_dp = config_.root_crl_url;  // the root's CRL (ARL) covers the issuing CA
  ip.excluded_names = config_.excluded_names;
  CV_ASSIGN_OR_RETURN(CertTemplate tmpl, CertTemplate::Create(ip, config_, root_cert));
  CV_ASSIGN_OR_RETURN(Built issuing, Build(tmpl, config_.issuing_subject, *issuing_key, *root_key));
  CV_RETURN_IF_ERROR(WritePem(CertPath(CaRole::kIssuing), issuing.der, "CERTIFICATE"));
  CV_RETURN_IF_ERROR(StoreCaCert(CaRole::kRoot, issuing.der, issuing.subject, "issuing-ca", actor));
  return IssueOcspSigner(actor, "init", "root, issuing and OCSP signer created");
}

Status CaInstance::IssueOcspSigner(const AuditActor& actor, const char* action, const char* audit_detail) {
  CV_RETURN_IF_ERROR(IssueOcspSignerOf(gens_.issuing, config_, actor));
  CV_RETURN_IF_ERROR(WriteChain(gens_.issuing, gens_.root, config_.dir + "/chain.pem"));
  return db_->AddAudit(MakeAuditEvent(actor, action, Name(CaRole::kIssuing), "hierarchy", audit_detail));
}

Status CaInstance::IssueOcspSignerOf(uint32_t gen, const CaConfig& cfg, const AuditActor& actor) {
  CV_RETURN_IF_ERROR(token_->GenerateKeyPair(NameOf(CaRole::kOcsp, gen), config_.key_algorithm));
  CV_ASSIGN_OR_RETURN(CaKey * ocsp_key, KeyOf(CaRole::kOcsp, gen));
  CV_ASSIGN_OR_RETURN(CaKey * issuing_key, KeyOf(CaRole::kIssuing, gen));
  CV_ASSIGN_OR_RETURN(X509 * issuing_cert, CertOf(CaRole::kIssuing, gen));
  Profile p = OcspSignerProfile(cfg);
  CV_ASSIGN_OR_RETURN(CertTemplate tmpl, CertTemplate::Create(p, cfg, issuing_cert));
  CV_ASSIGN_OR_RETURN(std::vector<SubjectEntry> entries, SplitSubject(cfg.issuing_subject));
  for (SubjectEntry& e : entries) {
    if (e.field == "CN") e.value += " OCSP Responder";
  }
  std::string subject = SubjectText(entries);
  CV_ASSIGN_OR_RETURN(Built ocsp, Build(tmpl, subject, *ocsp_key, *issuing_key));
  CV_RETURN_IF_ERROR(WritePem(CertPathOf(CaRole::kOcsp, gen), ocsp.der, "CERTIFICATE"));
  return StoreCaCertAs(NameOf(CaRole::kIssuing, gen), ocsp.der, ocsp.subject, "ocsp-signer", actor);
}

Status CaInstance::WriteChain(uint32_t issuing_gen, uint32_t root_gen, const std::string& path) {
  CV_ASSIGN_OR_RETURN(X509 * issuing_cert, CertOf(CaRole::kIssuing, issuing_gen));
  CV_ASSIGN_OR_RETURN(Bytes issuing_der, CertDer(issuing_cert));
  CV_ASSIGN_OR_RETURN(std::string chain, x509::PemEncode("CERTIFICATE", issuing_der));
  if (auto root = CertOf(CaRole::kRoot, root_gen); root.ok()) {  // none with an external root not yet installed
    CV_ASSIGN_OR_RETURN(Bytes root_der, CertDer(*root));
    CV_ASSIGN_OR_RETURN(std::string root_pem, x509::PemEncode("CERTIFICATE", root_der));
    chain += root_pem;
  }
  return WriteFile(path, chain);
}

void CaInstance::ReloadOcspSigner() {
  int i = static_cast<int>(CaRole::kOcsp);
  if (certs_[i] != nullptr) retired_certs_.push_back(std::move(certs_[i]));
  if (keys_[i] != nullptr) retired_keys_.push_back(std::move(keys_[i]));
}

Status CaInstance::RotateOcspSigner(const AuditActor& actor) {
  if (token_ == nullptr) return FailedPreconditionError("the token is not open");
  std::string old_serial;
  if (auto old = Cert(CaRole::kOcsp); old.ok()) {
    ossl::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(*old), nullptr));
    Bytes serial(static_cast<size_t>(BN_num_bytes(bn.get())));
    BN_bn2bin(bn.get(), serial.data());
    old_serial = HexEncode(serial);
  }
  ReloadOcspSigner();
  // The old key goes first: whatever happens next, it never signs again
  // (a rerun finds no key and makes one).
  CV_RETURN_IF_ERROR(token_->DestroyKeyPair(Name(CaRole::kOcsp)));
  CV_RETURN_IF_ERROR(IssueOcspSigner(actor, "ocsp-rotate", "new OCSP signing key and certificate"));
  if (old_serial.empty()) return OkStatus();
  CV_ASSIGN_OR_RETURN(CertRecord rec, db_->FindBySerial(Name(CaRole::kIssuing), old_serial));
  if (rec.revoked) return OkStatus();
  Revocation superseded{old_serial, 4, 0};  // RFC 5280 §5.3.1 superseded
  CV_RETURN_IF_ERROR(db_->Revoke(Name(CaRole::kIssuing), std::span<const Revocation>(&superseded, 1),
                                 static_cast<int64_t>(std::time(nullptr)), actor));
  return RecordRevocations(Name(CaRole::kIssuing));
}

Status CaInstance::InstallIssuing(const std::string& cert_pem_path, const std::string& root_pem_path,
                                  const AuditActor& actor) {
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> cert, ReadPemCert(cert_pem_path));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> root, ReadPemCert(root_pem_path));
  CV_ASSIGN_OR_RETURN(CaKey * key, Key(CaRole::kIssuing));
  if (EVP_PKEY_eq(X509_get0_pubkey(cert.get()), key->public_key()) != 1) {
    return InvalidArgumentError("the certificate is not for the issuing key in the token");
  }
  if (X509_verify(cert.get(), X509_get0_pubkey(root.get())) != 1) {
    return InvalidArgumentError("the issuing certificate is not signed by the given root");
  }
  CV_ASSIGN_OR_RETURN(Bytes der, CertDer(cert.get()));
  CV_ASSIGN_OR_RETURN(Bytes root_der, CertDer(root.get()));
  CV_RETURN_IF_ERROR(WritePem(CertPath(CaRole::kRoot), root_der, "CERTIFICATE"));
  CV_RETURN_IF_ERROR(WritePem(CertPath(CaRole::kIssuing), der, "CERTIFICATE"));
  return IssueOcspSigner(actor, "init", "issuing CA installed, OCSP signer created");
}

}  // namespace certvault::ca
