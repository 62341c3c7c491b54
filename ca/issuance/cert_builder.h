// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CertTemplate / BuildCertificate: profile-driven X.509 v3 certificates.
// The extensions that do not depend on the subject (basicConstraints, key
// usage, EKU, certificatePolicies, CRL DP, AIA, AKI, nameConstraints) are
// encoded once per (profile, issuer) in a CertTemplate; per certificate only
// the subject, key, serial, validity, SKI and SAN are added. The TBS is signed
// by the CA key in the token (x509::SignCertificateTbs) and, unless disabled,
// the signature is verified with the issuer's public key before it is used.
#ifndef CERTVAULT_CA_ISSUANCE_CERT_BUILDER_H_
#define CERTVAULT_CA_ISSUANCE_CERT_BUILDER_H_

#include <ctime>
#include <vector>

#include "ca/config/ca_config.h"
#include "ca/issuance/serial.h"
#include "ca/p11/ca_key.h"
#include "ca/profile/profile.h"

namespace certvault::ca {

class CertTemplate {
 public:
  // Create: `issuer` is the signing CA's certificate, or null for a
  // self-signed root (then AKI is computed per certificate). Not retained
  // beyond the call except through an up-reference.
  static Result<CertTemplate> Create(const Profile& profile, const CaConfig& config, X509* issuer);
  const Profile& profile() const { return profile_; }
  X509* issuer() const { return issuer_.get(); }
  const std::vector<ossl::UniquePtr<X509_EXTENSION>>& extensions() const { return extensions_; }
  // partitioned_crl_url: non-empty when each certificate names its partition's CRL.
  const std::string& partitioned_crl_url() const { return partitioned_crl_url_; }
  uint32_t partitions() const { return partitions_; }

 private:
  Profile profile_;
  ossl::UniquePtr<X509> issuer_;
  std::vector<ossl::UniquePtr<X509_EXTENSION>> extensions_;
  std::string partitioned_crl_url_;
  uint32_t partitions_ = 1;
};

struct CertRequest {
  std::vector<SubjectEntry> subject;
  std::vector<x509::SanEntry> sans;
  EVP_PKEY* public_key = nullptr;  // borrowed; for the lint
  std::span<const uint8_t> public_key_info;  // borrowed; DER SPKI put into the certificate
  Serial serial;
  time_t not_before = 0;
};

struct BuiltCert {
  Bytes der;
  time_t not_before = 0;
  time_t not_after = 0;
};

// BuildCertificate: the signed DER certificate. kPermissionDenied from the
// lint, or the signer's error; kSignatureInvalid if verification fails.
Result<BuiltCert> BuildCertificate(const CertTemplate& tmpl, const CertRequest& req, CaKey& key, bool verify);

// SubjectText: "/CN=x/O=y" form of the entries (for the database and lists).
std::string SubjectText(const std::vector<SubjectEntry>& subject);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_ISSUANCE_CERT_BUILDER_H_
