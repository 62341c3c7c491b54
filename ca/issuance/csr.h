// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// ParseCsr: CSR intake. Accepts one PKCS#10 request as DER or PEM, bounded
// in size, and checks its self-signature (proof of possession of the private
// key) before anything else is read from it. Only what the profile checks
// consume is extracted: the subject attributes, the subjectAltNames, and the
// public key with its algorithm name. Every failure is a clear kInvalidArgument
// (malformed), kResourceExhausted (oversized) or kPermissionDenied (signature).
#ifndef CERTVAULT_CA_ISSUANCE_CSR_H_
#define CERTVAULT_CA_ISSUANCE_CSR_H_

#include <span>

#include "ca/profile/profile.h"
#include "src/base/result.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::ca {

struct ParsedCsr {
  ossl::UniquePtr<EVP_PKEY> public_key;
  CsrContent content;
};

Result<ParsedCsr> ParseCsr(std::span<const uint8_t> input, size_t max_bytes);

// KeyAlgorithmOf: "ec-p256", "ec-p384", "ec-p521", "rsa-<bits>", "ed25519",
// "ed448", or "unsupported".
std::string KeyAlgorithmOf(const EVP_PKEY* key);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_ISSUANCE_CSR_H_
