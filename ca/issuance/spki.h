// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// SubjectPublicKeyInfo helpers that avoid OpenSSL 3.0's decoder/encoder
// framework on the issuance hot path (d2i_PUBKEY and X509_set_pubkey cost
// 100-250 us each there, and serialize threads on the provider store):
//  - PublicKeyFromSpki: P-256/P-384 keys are recognized by their fixed DER
//    prefix and built from a per-thread template key of the curve
//    (EVP_PKEY_dup + EVP_PKEY_set1_encoded_public_key, which checks the point
//    is on the curve); anything else goes through d2i_PUBKEY.
//  - SetCertPublicKey: copies the SPKI into a certificate as algorithm + bits
//    (X509_PUBKEY_set0_param), so the key is never re-encoded.
#ifndef CERTVAULT_CA_ISSUANCE_SPKI_H_
#define CERTVAULT_CA_ISSUANCE_SPKI_H_

#include <span>

#include "src/base/result.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::ca {

// PublicKeyFromSpki: kInvalidArgument for malformed DER or an invalid point.
Result<ossl::UniquePtr<EVP_PKEY>> PublicKeyFromSpki(std::span<const uint8_t> spki);
// SetCertPublicKey: `spki` must be a well-formed SubjectPublicKeyInfo.
Status SetCertPublicKey(X509* cert, std::span<const uint8_t> spki);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_ISSUANCE_SPKI_H_
