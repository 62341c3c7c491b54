// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CaInstance::IssueServerCert: the TLS server certificate of
// `certvault-ca serve`, issued by the CA itself; its key never leaves the
// token (the server signs its handshakes through certvault's OpenSSL
// provider, docs/design/enrollment.md).
#include <ctime>

#include "ca/instance/ca_instance.h"
#include "ca/instance/subject.h"
#include "ca/issuance/cert_builder.h"
#include "ca/issuance/serial.h"
#include "src/base/status_macros.h"

namespace certvault::ca {

Status CaInstance::IssueServerCert(const std::string& key_label, const std::vector<std::string>& sans,
                                   const std::string& cert_path, const AuditActor& actor) {
  if (token_ == nullptr) return FailedPreconditionError("the token is not open");
  if (sans.empty()) return InvalidArgumentError("the server certificate needs at least one subjectAltName");
  std::vector<x509::SanEntry> san_entries;
  for (const std::string& s : sans) {
    CV_ASSIGN_OR_RETURN(x509::SanEntry e, x509::ParseSan(s));
    san_entries.push_back(std::move(e));
  }
  CV_RETURN_IF_ERROR(CheckWritable(cert_path));
  CV_ASSIGN_OR_RETURN(X509 * issuing_cert, Cert(CaRole::kIssuing));
  CV_ASSIGN_OR_RETURN(CaKey * issuing_key, Key(CaRole::kIssuing));
  Profile p;
  p.name = "est-server";
  p.days = std::min<uint32_t>(config_.issuing_days, 397);
  p.key_usage = {"digitalSignature"};
  p.extended_key_usage = {"serverAuth"};
  p.revocation_pointers = true;
  CV_ASSIGN_OR_RETURN(CertTemplate tmpl, CertTemplate::Create(p, config_, issuing_cert));
  CV_RETURN_IF_ERROR(token_->DestroyKeyPair(key_label));  // a re-run replaces key and certificate
  CV_RETURN_IF_ERROR(token_->GenerateKeyPair(key_label, KeyAlgorithm::kEcP256));
  CV_ASSIGN_OR_RETURN(std::unique_ptr<CaKey> key, token_->OpenKey(key_label));
  std::vector<SubjectEntry> subject{{"CN", config_.name + " EST server"}};
  CV_ASSIGN_OR_RETURN(Serial serial, NewSerial());
  CertRequest req{subject, san_entries, key->public_key(), key->public_key_info(), serial, std::time(nullptr)};
  CV_ASSIGN_OR_RETURN(BuiltCert built, BuildCertificate(tmpl, req, *issuing_key, true));
  CV_RETURN_IF_ERROR(StoreCaCert(CaRole::kIssuing, built.der, SubjectText(subject), p.name, actor));
  CV_ASSIGN_OR_RETURN(std::string pem, x509::PemEncode("CERTIFICATE", built.der));
  CV_ASSIGN_OR_RETURN(Bytes issuing_der, CertDer(issuing_cert));
  CV_ASSIGN_OR_RETURN(std::string issuing_pem, x509::PemEncode("CERTIFICATE", issuing_der));
  CV_RETURN_IF_ERROR(WriteFile(cert_path, pem + issuing_pem));
  return db_->AddAudit(MakeAuditEvent(actor, "server-cert", Name(CaRole::kIssuing), key_label, "TLS server certificate issued"));
}

}  // namespace certvault::ca
