// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The mechanism engine (src/engine): PKCS#11 mechanisms over the crypto layer. It knows
// nothing of sessions, tokens or storage: it turns key objects (attributes +
// secret material) into ready keys and runs operations on them. The session
// layer (src/core/session.*) owns buffer/length semantics and policy checks
// that need object state (CKA_SIGN, CKA_ALLOWED_MECHANISMS, login state);
// the engine checks everything about the mechanism, its parameters and the key
// type/size, returning kMechanismInvalid, kMechanismParamInvalid,
// kKeyTypeInconsistent, kKeySizeRange, kDataLenRange, kSignatureInvalid ...
//
// Private keys are held as PKCS#8 DER (PrivateKeyInfo) in SecretBytes when at
// rest; secret keys as their raw CKA_VALUE.
#ifndef CERTVAULT_ENGINE_ENGINE_H_
#define CERTVAULT_ENGINE_ENGINE_H_

#include <memory>
#include <span>
#include <vector>

#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/model/types.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::engine {

// ReadyKey: a key object parsed once and cached by the core while the object
// is unchanged (and, for private objects, while the token is logged in).
// Immutable after creation; shared across threads.
struct ReadyKey {
  ObjectClass object_class = 0;  // CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, CKO_SECRET_KEY
  KeyType key_type = 0;          // CKK_RSA, CKK_EC, CKK_EC_EDWARDS, CKK_EC_MONTGOMERY, CKK_AES, CKK_GENERIC_SECRET, ...
  ossl::UniquePtr<EVP_PKEY> pkey;  // asymmetric keys (private or public part)
  SecretBytes secret;              // secret keys: CKA_VALUE
  size_t key_bits = 0;             // modulus bits, curve bits, or secret bits
};

// LoadKey: builds a ReadyKey from an object's attributes and, for private and
// secret keys, its secret material (PKCS#8 DER or CKA_VALUE). For public keys
// the attributes (CKA_MODULUS/CKA_PUBLIC_EXPONENT, CKA_EC_PARAMS/CKA_EC_POINT,
// CKA_PUBLIC_KEY_INFO) suffice and `material` is null.
Result<std::shared_ptr<const ReadyKey>> LoadKey(const AttributeSet& attrs, const SecretBytes* material);

// CryptoOp: one active operation (sign, verify, encrypt, decrypt, digest).
// Not thread-safe; the session serializes calls.
class CryptoOp {
 public:
  virtual ~CryptoOp() = default;
  // MaxOutputLength: an upper bound of the output of the single-part call on
  // `input_len` bytes, or of Final after Updates (input_len = 0). Exact for
  // signatures (PKCS#11 formats have a fixed size per key).
  virtual size_t MaxOutputLength(size_t input_len) const = 0;
  // Single-part: sign / encrypt / decrypt / digest.
  virtual Status Run(std::span<const uint8_t> in, SecureVector* out) = 0;
  // Multi-part: Update may emit output (encrypt/decrypt); Final emits the rest.
  // kFunctionNotSupported if the mechanism is single-part only (e.g. CKM_ECDSA).
  virtual Status Update(std::span<const uint8_t> in, SecureVector* out) = 0;
  virtual Status Final(SecureVector* out) = 0;
  // Verify: single-part and final. kSignatureInvalid or kSignatureLenRange on mismatch.
  virtual Status VerifyRun(std::span<const uint8_t> data, std::span<const uint8_t> sig) = 0;
  virtual Status VerifyFinal(std::span<const uint8_t> sig) = 0;
  // Reset prepares a finished operation for another run with the same key,
  // mechanism and parameters, keeping what its set-up fetched and built (an
  // initialized EVP_PKEY_CTX: no algorithm fetch, no key reference). false if
  // this operation cannot be reused; the caller then starts a new one.
  virtual bool Reset() { return false; }
};

enum class OpKind { kSign, kVerify, kEncrypt, kDecrypt, kDigest };

// NewOperation: starts an operation. `key` is null for kDigest.
Result<std::unique_ptr<CryptoOp>> NewOperation(OpKind kind, const Mechanism& mech,
                                               std::shared_ptr<const ReadyKey> key);

// NewKey: a freshly generated or imported key: the attributes it earns (public
// components, CKA_KEY_TYPE, CKA_EC_PARAMS, CKA_EC_POINT, CKA_MODULUS_BITS,
// CKA_PUBLIC_KEY_INFO, CKA_VALUE_LEN, ...) and its secret material.
struct NewKey {
  AttributeSet attrs;
  SecretBytes material;  // empty for public keys
};

// GenerateKeyPair: CKM_RSA_PKCS_KEY_PAIR_GEN (CKA_MODULUS_BITS 2048..4096,
// optional CKA_PUBLIC_EXPONENT), CKM_EC_KEY_PAIR_GEN (CKA_EC_PARAMS named curve
// OID: P-256/384/521), CKM_EC_EDWARDS_KEY_PAIR_GEN (Ed25519/Ed448, by OID or
// printable string), CKM_EC_MONTGOMERY_KEY_PAIR_GEN (X25519/X448). Reads the
// generation parameters from the templates; returns the public and private halves.
struct NewKeyPair {
  NewKey public_key;
  NewKey private_key;
};
Result<NewKeyPair> GenerateKeyPair(const Mechanism& mech, const AttributeSet& public_tmpl,
                                   const AttributeSet& private_tmpl);

// GenerateKey: CKM_AES_KEY_GEN (CKA_VALUE_LEN 16/24/32), CKM_GENERIC_SECRET_KEY_GEN.
Result<NewKey> GenerateKey(const Mechanism& mech, const AttributeSet& tmpl);

// ImportKey: C_CreateObject of a key given by components (CKA_MODULUS,
// CKA_PRIVATE_EXPONENT, ... / CKA_EC_PARAMS + CKA_VALUE / CKA_VALUE). Returns
// the attributes to store (components of private keys removed: they move into
// `material`) and the material.
Result<NewKey> ImportKey(const AttributeSet& tmpl);

// ImportPkcs8: a private key from PKCS#8 DER (PKCS#12 import, unwrap).
Result<NewKey> ImportPkcs8(const SecretBytes& der);

// PrivateComponent: the value of a private component attribute of a
// non-sensitive private key (CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_VALUE of an
// EC key, ...). kAttributeTypeInvalid if the key type has no such attribute.
Result<SecureVector> PrivateComponent(const ReadyKey& key, AttributeType type);

// WrapKey / UnwrapKey: CKM_AES_KEY_WRAP_KWP (RFC 5649, PKCS#11 CKM_AES_KEY_WRAP_PAD),
// CKM_AES_GCM, CKM_RSA_PKCS_OAEP. Private keys are wrapped as PKCS#8.
// The session layer decides whether a key may be wrapped at all.
Result<SecureVector> WrapKey(const Mechanism& mech, const ReadyKey& wrapping_key, const ReadyKey& key);
// UnwrapKey: `key_class`/`key_type` come from the template.
Result<NewKey> UnwrapKey(const Mechanism& mech, const ReadyKey& unwrapping_key, std::span<const uint8_t> wrapped,
                         ObjectClass key_class, KeyType key_type);

// DeriveKey: CKM_ECDH1_DERIVE (EC and X25519/X448 keys, CKD_NULL or
// CKD_SHA*_KDF), producing a secret key of the template's CKA_KEY_TYPE/VALUE_LEN.
Result<NewKey> DeriveKey(const Mechanism& mech, const ReadyKey& base_key, const AttributeSet& tmpl);

// Mechanisms: every mechanism the engine implements, with true flags and key
// sizes. The core filters it through the token's allow-list.
const std::vector<MechanismInfo>& Mechanisms();

// RandomBytes: from OpenSSL's DRBG.
Status RandomBytes(std::span<uint8_t> out);

}  // namespace certvault::engine

#endif  // CERTVAULT_ENGINE_ENGINE_H_
