// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// X.509 / PKCS#10 builders whose signature is produced elsewhere (inside the
// vault). The builder assembles the to-be-signed structure with OpenSSL, hands
// its DER to a Signer, places the returned signature into the outer structure
// and verifies the result with the public key before returning it: a bad
// signature is never returned (kSignatureInvalid instead).
//
// Only the OpenSSL 3.0 API is used. Thread-safety: all functions are
// reentrant; a Signer is called at most once per build, on the calling thread.
#ifndef CERTVAULT_CRYPTO_X509_BUILD_H_
#define CERTVAULT_CRYPTO_X509_BUILD_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::x509 {

// SignatureAlgorithm: what the Signer must produce over the TBS bytes.
//  kEcdsaSha*:      raw r||s (PKCS#11 CKM_ECDSA_SHA* output), each half the
//                   curve's byte length; converted here to DER ECDSA-Sig-Value.
//  kRsaPkcs1Sha256: PKCS#1 v1.5 signature (CKM_SHA256_RSA_PKCS).
//  kEd25519/kEd448: raw 64/114-byte signature (CKM_EDDSA, pure).
//  kRsaPssSha256:   RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt
//                   (CKM_SHA256_RSA_PKCS_PSS; RFC 4055 §3.1 parameters).
enum class SignatureAlgorithm {
  kEcdsaSha256,
  kEcdsaSha384,
  kEcdsaSha512,
  kRsaPkcs1Sha256,
  kEd25519,
  kEd448,
  kRsaPssSha256,
};

// RsaPssSha256AlgorithmIdentifier: the DER AlgorithmIdentifier of
// kRsaPssSha256 (id-RSASSA-PSS with its RSASSA-PSS-params).
std::span<const uint8_t> RsaPssSha256AlgorithmIdentifier();

// Signer: signs `tbs` (the full to-be-signed DER, not a digest) with the
// vault's private key. Any error it returns is returned by the builder.
using Signer = std::function<Result<Bytes>(std::span<const uint8_t> tbs)>;

// DefaultSignatureAlgorithm: ECDSA with the curve's matching hash (P-256 ->
// SHA-256, P-384 -> SHA-384, P-521 -> SHA-512), sha256WithRSAEncryption for
// RSA, pure EdDSA for Ed25519/Ed448. kKeyTypeInconsistent for other keys.
Result<SignatureAlgorithm> DefaultSignatureAlgorithm(const EVP_PKEY* key);

// ParsePublicKeyInfo: DER SubjectPublicKeyInfo (CKA_PUBLIC_KEY_INFO) to a key.
// kAttributeValueInvalid if malformed or followed by trailing bytes.
Result<ossl::UniquePtr<EVP_PKEY>> ParsePublicKeyInfo(std::span<const uint8_t> spki);

// ParseSubject: "/CN=www.example.com/O=Example/C=DE" (OpenSSL's -subj form;
// "\/" escapes a slash) into an X509_NAME. Values are UTF-8. Unknown
// attribute names, empty values or a missing leading '/' give kInvalidArgument.
Result<ossl::UniquePtr<X509_NAME>> ParseSubject(std::string_view subject);

// SubjectPart: one attribute of the ParseSubject form, unescaped.
struct SubjectPart {
  std::string field;
  std::string value;
};
// SplitSubject: the ParseSubject form into its attributes, in order, without
// checking attribute names. kInvalidArgument when malformed or too long.
Result<std::vector<SubjectPart>> SplitSubject(std::string_view subject);

// SanEntry: one subjectAltName, parsed from "DNS:x", "IP:192.0.2.1",
// "IP:2001:db8::1", "email:a@b" or "URI:https://...".
struct SanEntry {
  enum class Kind { kDns, kIp, kEmail, kUri };
  Kind kind = Kind::kDns;
  std::string value;
};
// ParseSan: kInvalidArgument on an unknown prefix, an empty value or a bad IP.
Result<SanEntry> ParseSan(std::string_view text);

// CsrSpec: a PKCS#10 request for `public_key_info`.
struct CsrSpec {
  Bytes public_key_info;  // DER SubjectPublicKeyInfo
  std::string subject;    // ParseSubject form
  std::vector<SanEntry> sans;
  SignatureAlgorithm algorithm = SignatureAlgorithm::kEcdsaSha256;
  // attributes: further CSR attributes (RFC 2986 §4.1), each (dotted OID,
  // the DER of its single value, which must be a SEQUENCE).
  std::vector<std::pair<std::string, Bytes>> attributes;
};

// BuildCsr: the DER CertificationRequest, signed by `signer` and verified.
Result<Bytes> BuildCsr(const CsrSpec& spec, const Signer& signer);

// CertSpec: an X.509 v3 certificate. Self-signed when issuer_cert_der is empty
// (then the subject is the issuer, and SKI/AKI both name the key); otherwise
// issued by that certificate, whose key must be the one `signer` uses.
struct CertSpec {
  Bytes public_key_info;  // subject key, DER SubjectPublicKeyInfo
  std::string subject;    // ParseSubject form
  std::vector<SanEntry> sans;
  uint32_t days = 365;  // validity from now; REQUIRES 1 <= days <= 36500
  bool is_ca = false;   // basicConstraints CA:TRUE + keyCertSign/cRLSign
  // extendedKeyUsage short names ("serverAuth", "clientAuth", ...); none if empty.
  std::vector<std::string> extended_key_usage;
  Bytes issuer_cert_der;  // empty = self-signed
  SignatureAlgorithm algorithm = SignatureAlgorithm::kEcdsaSha256;
};

// BuildCertificate: the DER certificate with a random 20-byte serial (top bit
// clear), signed by `signer` and verified with the issuer's public key.
Result<Bytes> BuildCertificate(const CertSpec& spec, const Signer& signer);

// SignCertificateTbs: for callers that assemble the X509 themselves (the CA's
// profile-driven builder): sets both AlgorithmIdentifiers to `alg`, re-encodes
// the TBS, has `signer` sign it and stores the signature in `cert`. The caller
// verifies the result. Errors: as the Signer, or kMechanismInvalid.
Status SignCertificateTbs(X509* cert, SignatureAlgorithm alg, const Signer& signer);

// RawEcdsaToDer: r||s (even length, ≤ 2*66 bytes) to DER ECDSA-Sig-Value.
Result<Bytes> RawEcdsaToDer(std::span<const uint8_t> raw);

// PemEncode: PEM armour ("CERTIFICATE", "CERTIFICATE REQUEST", "PUBLIC KEY").
Result<std::string> PemEncode(std::string_view label, std::span<const uint8_t> der);

}  // namespace certvault::x509

#endif  // CERTVAULT_CRYPTO_X509_BUILD_H_
