// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Building EVP_PKEYs from PKCS#11 attribute components. Private to src/engine.
#ifndef CERTVAULT_ENGINE_KEY_BUILD_H_
#define CERTVAULT_ENGINE_KEY_BUILD_H_

#include "src/base/result.h"
#include "src/engine/key_util.h"
#include "src/model/types.h"

namespace certvault::engine {

// PublicFromAttrs: a public key of `type` from CKA_PUBLIC_KEY_INFO if present,
// else from CKA_MODULUS + CKA_PUBLIC_EXPONENT (RSA) or CKA_EC_PARAMS +
// CKA_EC_POINT (EC, Edwards, Montgomery; DER or raw point). kTemplateIncomplete
// if components are missing, kKeyTypeInconsistent if the SPKI is of another type.
Result<PkeyPtr> PublicFromAttrs(const AttributeSet& attrs, KeyType type);

// PrivateFromAttrs: a private key of `type` from its components: RSA needs
// CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT and the five CRT
// values; EC-family keys CKA_EC_PARAMS + CKA_VALUE. The key is validated.
Result<PkeyPtr> PrivateFromAttrs(const AttributeSet& attrs, KeyType type);

// CheckSecretKey: kKeySizeRange unless `len` fits `type` (AES: 16/24/32 bytes;
// generic secret and HMAC key types: 1..512 bytes); kKeyTypeInconsistent for
// other secret key types.
Status CheckSecretKey(KeyType type, size_t len);
inline constexpr size_t kGenericSecretMaxBytes = 512;

// CheckCurveType: kTemplateInconsistent if `curve` is not of `type`.
Status CheckCurveType(const Curve& curve, KeyType type);

}  // namespace certvault::engine

#endif  // CERTVAULT_ENGINE_KEY_BUILD_H_
