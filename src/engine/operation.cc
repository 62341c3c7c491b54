// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// NewOperation: routes a mechanism to its operation family.
#include "src/base/status_macros.h"
#include "src/engine/ops.h"
#include "src/model/pkcs11_constants.h"
#include "src/selftest/selftest.h"

namespace certvault::engine {

Status CheckKeyClass(OpKind kind, const ReadyKey& key) {
  bool needs_private = kind == OpKind::kSign || kind == OpKind::kDecrypt;
  if (needs_private && key.object_class == CKO_PUBLIC_KEY) {
    return Status(Reason::kKeyFunctionNotPermitted, "a public key cannot sign or decrypt");
  }
  bool needs_public = kind == OpKind::kEncrypt && key.object_class == CKO_PRIVATE_KEY;
  if (needs_public) return Status(Reason::kKeyFunctionNotPermitted, "encrypt with the public key");
  return OkStatus();
}

Result<std::unique_ptr<CryptoOp>> NewOperation(OpKind kind, const Mechanism& mech,
                                               std::shared_ptr<const ReadyKey> key) {
  CV_RETURN_IF_ERROR(selftest::ErrorStateStatus());  // docs/design/selftest.md
  if (kind == OpKind::kDigest) return NewDigestOp(mech);
  if (key == nullptr) return Status(Reason::kKeyHandleInvalid, "operation needs a key");
  if (mech.type == CKM_RSA_X_509) return NewRawRsaOp(kind, mech, std::move(key));
  if (kind == OpKind::kSign || kind == OpKind::kVerify) {
    if (IsPkeySignMech(mech.type)) return NewPkeySignOp(kind, mech, std::move(key));
    if (mech.type == CKM_EDDSA) return NewEddsaOp(kind, mech, std::move(key));
    if (IsHmacMech(mech.type)) return NewHmacOp(kind, mech, std::move(key));
    if (mech.type == CKM_AES_CMAC) return NewCmacOp(kind, mech, std::move(key));
  } else {
    if (IsAesCipherMech(mech.type)) return NewAesOp(kind, mech, std::move(key));
    if (IsRsaCipherMech(mech.type)) return NewRsaCipherOp(kind, mech, std::move(key));
  }
  return Status(Reason::kMechanismInvalid, "mechanism not supported for this operation");
}

}  // namespace certvault::engine
