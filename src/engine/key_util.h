// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EVP_PKEY helpers shared by the engine's key code: PKCS#8 / SPKI encoding,
// key classification, component extraction and the public attributes a key
// earns. Private to src/engine.
#ifndef CERTVAULT_ENGINE_KEY_UTIL_H_
#define CERTVAULT_ENGINE_KEY_UTIL_H_

#include <span>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/crypto/ossl_ptr.h"
#include "src/engine/curves.h"
#include "src/model/types.h"

namespace certvault::engine {

inline constexpr size_t kRsaMinBits = 2048;
inline constexpr size_t kRsaMaxBits = 8192;      // usable (import, operations)
inline constexpr size_t kRsaGenMaxBits = 4096;   // generation

using PkeyPtr = ossl::UniquePtr<EVP_PKEY>;

// ParsePkcs8: a PrivateKeyInfo DER. Returns kDataInvalid on malformed input,
// trailing bytes or an unsupported algorithm (callers re-map, e.g. unwrap to
// kWrappedKeyInvalid).
Result<PkeyPtr> ParsePkcs8(std::span<const uint8_t> der);
// EncodePkcs8: the PrivateKeyInfo DER of a private key, in wiped memory.
Result<SecretBytes> EncodePkcs8(EVP_PKEY* pkey);
// ParseSpki / EncodeSpki: SubjectPublicKeyInfo DER. Parse returns kAttributeValueInvalid.
Result<PkeyPtr> ParseSpki(std::span<const uint8_t> der);
Result<Bytes> EncodeSpki(EVP_PKEY* pkey);

// KeyTypeOf: CKK_RSA / CKK_EC / CKK_EC_EDWARDS / CKK_EC_MONTGOMERY, or
// kKeyTypeInconsistent for types the engine does not handle.
Result<KeyType> KeyTypeOf(EVP_PKEY* pkey);
// CurveOf: the curve of an EC/Edwards/Montgomery key; kCurveNotSupported otherwise.
Result<const Curve*> CurveOf(EVP_PKEY* pkey);
// KeyBits: RSA modulus bits or the nominal curve size.
Result<size_t> KeyBits(EVP_PKEY* pkey);
// CheckUsable: the key type is supported and its size in range (kKeySizeRange).
Status CheckUsable(EVP_PKEY* pkey);

// BnParam: a BIGNUM parameter (OSSL_PKEY_PARAM_RSA_N ...) big-endian, padded
// to `pad` bytes if non-zero.
Result<SecureVector> BnParam(EVP_PKEY* pkey, const char* name, size_t pad = 0);
// PublicPoint: the raw public key (uncompressed EC point; raw Ed/X key).
Result<Bytes> PublicPoint(EVP_PKEY* pkey);

// EarnedAttributes: CKA_CLASS, CKA_KEY_TYPE and the public attributes of an
// asymmetric key for an object of `object_class` (CKO_PUBLIC_KEY or
// CKO_PRIVATE_KEY). `ec_params` overrides the CKA_EC_PARAMS value (to echo a
// template's printable-string form); empty means the curve OID.
Result<AttributeSet> EarnedAttributes(EVP_PKEY* pkey, ObjectClass object_class,
                                      std::span<const uint8_t> ec_params = {});

// FromData: EVP_PKEY_fromdata for key type `type` ("RSA", "EC", ...).
Result<PkeyPtr> FromData(const char* type, int selection, OSSL_PARAM* params);

// ToBn: big-endian bytes to a BIGNUM (cleared on free).
Result<ossl::UniquePtr<BIGNUM>> ToBn(std::span<const uint8_t> be);

}  // namespace certvault::engine

#endif  // CERTVAULT_ENGINE_KEY_UTIL_H_
