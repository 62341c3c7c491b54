// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// WrapKey / UnwrapKey (engine.h): AES key wrap with padding (RFC 5649, SP
// 800-38F KWP), AES-GCM (ciphertext || tag) and RSA-OAEP (secret keys only).
// Private keys travel as PKCS#8 PrivateKeyInfo (PKCS#11 v3.0 §5.18.6 note).
#include <climits>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/engine/key_build.h"
#include "src/engine/ops.h"
#include "src/model/pkcs11_constants.h"
#include "src/selftest/selftest.h"

namespace certvault::engine {
namespace {

bool IsKwp(MechanismType type) { return type == CKM_AES_KEY_WRAP_PAD || type == CKM_AES_KEY_WRAP_KWP; }

const EVP_CIPHER* KwpCipher(size_t key_len) {
  static EVP_CIPHER* const table[3] = {EVP_CIPHER_fetch(crypto::LibCtx(), "AES-128-WRAP-PAD", nullptr),
                                       EVP_CIPHER_fetch(crypto::LibCtx(), "AES-192-WRAP-PAD", nullptr),
                                       EVP_CIPHER_fetch(crypto::LibCtx(), "AES-256-WRAP-PAD", nullptr)};
  return table[(key_len - 16) / 8];
}

Result<SecureVector> Kwp(bool enc, const ReadyKey& kek, std::span<const uint8_t> in) {
  if (kek.object_class != CKO_SECRET_KEY || kek.key_type != CKK_AES) {
    return Status(Reason::kKeyTypeInconsistent, "KWP needs an AES wrapping key");
  }
  CV_RETURN_IF_ERROR(CheckSecretKey(CKK_AES, kek.secret.size()));
  if (in.empty() || in.size() > INT_MAX - 16) return Status(Reason::kDataLenRange, "KWP input length");
  ossl::UniquePtr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr || KwpCipher(kek.secret.size()) == nullptr) return ossl::OpenSslError("EVP_CIPHER_CTX_new");
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  if (EVP_CipherInit_ex2(ctx.get(), KwpCipher(kek.secret.size()), kek.secret.Bytes(SecretAccess::Get()).data(),
                         nullptr, enc ? 1 : 0, nullptr) != 1) {
    return ossl::OpenSslError("EVP_CipherInit_ex2(KWP)");
  }
  SecureVector out(in.size() + 16);
  int len = 0;
  if (EVP_CipherUpdate(ctx.get(), out.data(), &len, in.data(), static_cast<int>(in.size())) != 1 || len <= 0) {
    ossl::ClearErrors();
    return Status(enc ? Reason::kFunctionFailed : Reason::kWrappedKeyInvalid, "AES KWP failed");
  }
  out.resize(static_cast<size_t>(len));
  return out;
}

// NonOwning: a shared_ptr view of a key the caller keeps alive for the call.
std::shared_ptr<const ReadyKey> NonOwning(const ReadyKey& key) {
  return std::shared_ptr<const ReadyKey>(std::shared_ptr<const ReadyKey>(), &key);
}

Result<SecureVector> ViaOperation(OpKind kind, const Mechanism& mech, const ReadyKey& key,
                                  std::span<const uint8_t> in) {
  Result<OpPtr> op = mech.type == CKM_AES_GCM ? NewAesOp(kind, mech, NonOwning(key))
                                               : NewRsaCipherOp(kind, mech, NonOwning(key));
  if (!op.ok()) return op.status();
  SecureVector out;
  CV_RETURN_IF_ERROR((*op)->Run(in, &out));
  return out;
}

Result<SecureVector> Transform(bool wrap, const Mechanism& mech, const ReadyKey& key, std::span<const uint8_t> in) {
  if (IsKwp(mech.type)) {
    const auto* iv = std::get_if<Bytes>(&mech.params);
    if (!std::holds_alternative<std::monostate>(mech.params) && (iv == nullptr || !iv->empty())) {
      return Status(Reason::kMechanismParamInvalid, "only the default KWP IV is supported");
    }
    return Kwp(wrap, key, in);
  }
  if (mech.type != CKM_AES_GCM && mech.type != CKM_RSA_PKCS_OAEP) {
    return Status(Reason::kMechanismInvalid, "not a wrapping mechanism");
  }
  return ViaOperation(wrap ? OpKind::kEncrypt : OpKind::kDecrypt, mech, key, in);
}

Result<SecretBytes> WrapPayload(const ReadyKey& key) {
  if (key.object_class == CKO_SECRET_KEY) return key.secret.Clone();
  if (key.object_class == CKO_PRIVATE_KEY && key.pkey != nullptr) return EncodePkcs8(key.pkey.get());
  return Status(Reason::kKeyNotWrappable, "only secret and private keys can be wrapped");
}

Result<NewKey> UnwrappedKey(SecretBytes payload, ObjectClass key_class, KeyType key_type) {
  if (key_class == CKO_SECRET_KEY) {
    CV_RETURN_IF_ERROR(CheckSecretKey(key_type, payload.size()));
    NewKey out;
    out.attrs.SetUlong(CKA_CLASS, CKO_SECRET_KEY);
    out.attrs.SetUlong(CKA_KEY_TYPE, key_type);
    out.attrs.SetUlong(CKA_VALUE_LEN, payload.size());
    out.material = std::move(payload);
    return out;
  }
  if (key_class != CKO_PRIVATE_KEY) return Status(Reason::kTemplateInconsistent, "unwrap makes secret or private keys");
  Result<NewKey> key = ImportPkcs8(payload);
  if (!key.ok()) {
    if (key.status().reason() == Reason::kDataInvalid) return Status(Reason::kWrappedKeyInvalid, "not a PKCS#8 key");
    return key.status();
  }
  if (key->attrs.GetUlong(CKA_KEY_TYPE) != key_type) {
    return Status(Reason::kTemplateInconsistent, "unwrapped key type differs from CKA_KEY_TYPE");
  }
  return key;
}

}  // namespace

Result<SecureVector> WrapKey(const Mechanism& mech, const ReadyKey& wrapping_key, const ReadyKey& key) {
  CV_RETURN_IF_ERROR(selftest::ErrorStateStatus());  // docs/design/selftest.md
  CV_ASSIGN_OR_RETURN(SecretBytes payload, WrapPayload(key));
  if (mech.type == CKM_RSA_PKCS_OAEP && key.object_class != CKO_SECRET_KEY) {
    return Status(Reason::kKeyNotWrappable, "RSA-OAEP wraps secret keys only");
  }
  if (mech.type == CKM_RSA_PKCS_OAEP && wrapping_key.object_class == CKO_PRIVATE_KEY) {
    return Status(Reason::kKeyFunctionNotPermitted, "wrap with the public key");
  }
  return Transform(true, mech, wrapping_key, payload.Bytes(SecretAccess::Get()));
}

Result<NewKey> UnwrapKey(const Mechanism& mech, const ReadyKey& unwrapping_key, std::span<const uint8_t> wrapped,
                         ObjectClass key_class, KeyType key_type) {
  CV_RETURN_IF_ERROR(selftest::ErrorStateStatus());  // docs/design/selftest.md
  Result<SecureVector> plain = Transform(false, mech, unwrapping_key, wrapped);
  if (!plain.ok()) {
    Reason r = plain.status().reason();
    if (r == Reason::kEncryptedDataInvalid || r == Reason::kEncryptedDataLenRange || r == Reason::kDataLenRange) {
      return Status(Reason::kWrappedKeyInvalid, "wrapped key does not decrypt");
    }
    return plain.status();
  }
  return UnwrappedKey(SecretBytes(std::move(plain).value()), key_class, key_type);
}

}  // namespace certvault::engine
