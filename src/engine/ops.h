// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Operation factories behind NewOperation, one per family. Private to src/engine.
#ifndef CERTVAULT_ENGINE_OPS_H_
#define CERTVAULT_ENGINE_OPS_H_

#include <memory>

#include "src/engine/engine.h"

namespace certvault::engine {

// OpBase: every CryptoOp entry point defaults to kFunctionNotSupported.
class OpBase : public CryptoOp {
 public:
  Status Run(std::span<const uint8_t>, SecureVector*) override { return Unsupported(); }
  Status Update(std::span<const uint8_t>, SecureVector*) override { return Unsupported(); }
  Status Final(SecureVector*) override { return Unsupported(); }
  Status VerifyRun(std::span<const uint8_t>, std::span<const uint8_t>) override { return Unsupported(); }
  Status VerifyFinal(std::span<const uint8_t>) override { return Unsupported(); }

 protected:
  static Status Unsupported() {
    return Status(Reason::kFunctionNotSupported, "not supported by this mechanism/operation");
  }
};

using OpPtr = std::unique_ptr<CryptoOp>;

// NewPkeySignOp: RSA PKCS#1 v1.5 / PSS, ECDSA, EdDSA sign and verify.
// kMechanismInvalid for other mechanisms; kKeyTypeInconsistent for a wrong key.
Result<OpPtr> NewPkeySignOp(OpKind kind, const Mechanism& mech, std::shared_ptr<const ReadyKey> key);
// NewEddsaOp: CKM_EDDSA sign and verify (single-part).
Result<OpPtr> NewEddsaOp(OpKind kind, const Mechanism& mech, std::shared_ptr<const ReadyKey> key);
// NewHmacOp: CKM_SHA*_HMAC / CKM_SHA3_*_HMAC sign and verify.
Result<OpPtr> NewHmacOp(OpKind kind, const Mechanism& mech, std::shared_ptr<const ReadyKey> key);
// NewDigestOp: CKM_SHA_1, SHA-2 and SHA-3 digests.
Result<OpPtr> NewDigestOp(const Mechanism& mech);
// NewAesOp: CKM_AES_GCM, CKM_AES_CBC_PAD, CKM_AES_CBC, CKM_AES_ECB and
// CKM_AES_CTR encrypt/decrypt.
Result<OpPtr> NewAesOp(OpKind kind, const Mechanism& mech, std::shared_ptr<const ReadyKey> key);
// NewRsaCipherOp: CKM_RSA_PKCS and CKM_RSA_PKCS_OAEP encrypt/decrypt.
Result<OpPtr> NewRsaCipherOp(OpKind kind, const Mechanism& mech, std::shared_ptr<const ReadyKey> key);

// NewRawRsaOp: CKM_RSA_X_509 (raw RSA) encrypt, decrypt, sign and verify.
Result<OpPtr> NewRawRsaOp(OpKind kind, const Mechanism& mech, std::shared_ptr<const ReadyKey> key);
// NewCmacOp: CKM_AES_CMAC sign and verify (full 16-byte MAC).
Result<OpPtr> NewCmacOp(OpKind kind, const Mechanism& mech, std::shared_ptr<const ReadyKey> key);

// IsSignMech / IsHmacMech / IsDigestMech / IsAesMech / IsRsaCipherMech: routing.
bool IsPkeySignMech(MechanismType type);
bool IsHmacMech(MechanismType type);
bool IsAesCipherMech(MechanismType type);
bool IsRsaCipherMech(MechanismType type);

// CheckKeyClass: kKeyFunctionNotPermitted if the key cannot do `kind`
// (signing/decrypting needs a private or secret key).
Status CheckKeyClass(OpKind kind, const ReadyKey& key);

}  // namespace certvault::engine

#endif  // CERTVAULT_ENGINE_OPS_H_
