// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Public keys read from a PKCS#11 token (CKA_EC_PARAMS + CKA_EC_POINT, or
// CKA_MODULUS + CKA_PUBLIC_EXPONENT) into an OpenSSL EVP_PKEY, so that the CA
// can put them into certificates and verify what the token signed.
#ifndef CERTVAULT_CA_P11_PUBLIC_KEY_H_
#define CERTVAULT_CA_P11_PUBLIC_KEY_H_

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/crypto/ossl_ptr.h"
#include "third_party/pkcs11/pkcs11.h"

namespace certvault::ca {

// ReadPublicKey: the public key object `pub`. kUnimplemented for key types
// other than EC (P-256, P-384, P-521) and RSA; kDataInvalid if malformed.
Result<ossl::UniquePtr<EVP_PKEY>> ReadPublicKey(CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE session,
                                                CK_OBJECT_HANDLE pub);
// EncodePublicKeyInfo: DER SubjectPublicKeyInfo of `key`.
Result<Bytes> EncodePublicKeyInfo(EVP_PKEY* key);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_P11_PUBLIC_KEY_H_
