// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// ParseCsr: CSR intake. Accepts one PKCS#10 request (RFC 2986) as DER or
// PEM, bounded in size, and checks its self-signature (proof of possession of
// the private key) before its content is used. The request is split with the
// bounds-checked DerReader and the parts are decoded by OpenSSL (the subject
// Name, the AlgorithmIdentifier, the extensionRequest), which avoids OpenSSL
// 3.0's slow whole-request decoding path. Only what the profile checks
// consume is extracted: subject attributes, subjectAltNames, the public key.
// Failures: kInvalidArgument (malformed), kResourceExhausted (oversized),
// kPermissionDenied (bad signature, unsupported content).
#ifndef CERTVAULT_CA_ISSUANCE_CSR_H_
#define CERTVAULT_CA_ISSUANCE_CSR_H_

#include <span>
#include <string>
#include <vector>

#include "ca/profile/profile.h"
#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::ca {

struct ParsedCsr {
  ossl::UniquePtr<EVP_PKEY> public_key;
  Bytes spki;  // the request's DER SubjectPublicKeyInfo, copied into the certificate
  CsrContent content;
};

Result<ParsedCsr> ParseCsr(std::span<const uint8_t> input, size_t max_bytes);

// ParseVerifiedRequest: the same content from a certification request whose
// proof of possession the caller has already verified (a CMP CertReqMsg,
// whose POPO OpenSSL's CMP server checks, RFC 4211 §4): the DER
// SubjectPublicKeyInfo, the subject (null: empty) and the requested
// extensions (null: none; only subjectAltName is read, as for a CSR).
Result<ParsedCsr> ParseVerifiedRequest(std::span<const uint8_t> spki, const X509_NAME* subject,
                                       const STACK_OF(X509_EXTENSION)* exts);

// CertificateSans: the subjectAltNames of an issued certificate (DER), in
// the form ParseCsr gives a CSR's. kInvalidArgument if it does not parse.
Result<std::vector<x509::SanEntry>> CertificateSans(std::span<const uint8_t> cert_der);

// SameSans: whether `a` and `b` name the same set of subjectAltNames (order
// and repeats aside; DNS names and email addresses compared without case).
bool SameSans(const std::vector<x509::SanEntry>& a, const std::vector<x509::SanEntry>& b);

// KeyAlgorithmOf: "ec-p256", "ec-p384", "ec-p521", "rsa-<bits>", "ed25519",
// "ed448", or "unsupported".
std::string KeyAlgorithmOf(const EVP_PKEY* key);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_ISSUANCE_CSR_H_
