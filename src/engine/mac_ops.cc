// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// HMAC (PKCS#11 v3.0 §2.20-2.24: CKM_SHA*_HMAC, full-length output),
// CKM_AES_CMAC (§2.14: full 16-byte output; NIST SP 800-38B) and the message
// digests (CKM_SHA_1, SHA-2, SHA-3).
#include <array>

#include "src/base/ct.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/engine/hash.h"
#include "src/engine/key_build.h"
#include "src/engine/ops.h"
#include "src/model/pkcs11_constants.h"

namespace certvault::engine {
namespace {

struct HmacDef {
  MechanismType mech;
  MechanismType hash;
  KeyType dedicated_key_type;  // CKK_SHA256_HMAC ...; 0 if none
};

constexpr std::array<HmacDef, 9> kHmacs = {{
    {CKM_SHA_1_HMAC, CKM_SHA_1, CKK_SHA_1_HMAC},
    {CKM_SHA224_HMAC, CKM_SHA224, CKK_SHA224_HMAC},
    {CKM_SHA256_HMAC, CKM_SHA256, CKK_SHA256_HMAC},
    {CKM_SHA384_HMAC, CKM_SHA384, CKK_SHA384_HMAC},
    {CKM_SHA512_HMAC, CKM_SHA512, CKK_SHA512_HMAC},
    {CKM_SHA3_224_HMAC, CKM_SHA3_224, 0},
    {CKM_SHA3_256_HMAC, CKM_SHA3_256, 0},
    {CKM_SHA3_384_HMAC, CKM_SHA3_384, 0},
    {CKM_SHA3_512_HMAC, CKM_SHA3_512, 0},
}};

const HmacDef* FindHmac(MechanismType type) {
  for (const HmacDef& d : kHmacs) {
    if (d.mech == type) return &d;
  }
  return nullptr;
}

EVP_MAC* HmacAlgorithm() {
  static EVP_MAC* const mac = EVP_MAC_fetch(crypto::LibCtx(), "HMAC", nullptr);
  return mac;
}

EVP_MAC* CmacAlgorithm() {
  static EVP_MAC* const mac = EVP_MAC_fetch(crypto::LibCtx(), "CMAC", nullptr);
  return mac;
}

// MacOp: an EVP_MAC keyed with the secret key (HMAC, CMAC).
class MacOp final : public OpBase {
 public:
  explicit MacOp(std::shared_ptr<const ReadyKey> key) : key_(std::move(key)) {}

  // Init: `name` is the MAC's parameter (digest or cipher name).
  Status Init(EVP_MAC* mac, const char* param_key, const char* name, size_t mac_len) {
    mac_len_ = mac_len;
    if (mac == nullptr) return ossl::OpenSslError("EVP_MAC_fetch");
    ctx_.reset(EVP_MAC_CTX_new(mac));
    if (ctx_ == nullptr) return ossl::OpenSslError("EVP_MAC_CTX_new");
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(param_key, const_cast<char*>(name), 0),
                           OSSL_PARAM_construct_end()};
    std::span<const uint8_t> k = key_->secret.Bytes(SecretAccess::Get());
    if (EVP_MAC_init(ctx_.get(), k.data(), k.size(), params) != 1) return ossl::OpenSslError("EVP_MAC_init");
    return OkStatus();
  }

  size_t MaxOutputLength(size_t) const override { return mac_len_; }
  Status Run(std::span<const uint8_t> in, SecureVector* out) override {
    CV_RETURN_IF_ERROR(Update(in, nullptr));
    return Final(out);
  }
  Status Update(std::span<const uint8_t> in, SecureVector*) override {
    if (EVP_MAC_update(ctx_.get(), in.data(), in.size()) != 1) return ossl::OpenSslError("EVP_MAC_update");
    return OkStatus();
  }
  Status Final(SecureVector* out) override {
    out->resize(mac_len_);
    size_t len = 0;
    if (EVP_MAC_final(ctx_.get(), out->data(), &len, out->size()) != 1) return ossl::OpenSslError("EVP_MAC_final");
    out->resize(len);
    return OkStatus();
  }
  Status VerifyRun(std::span<const uint8_t> data, std::span<const uint8_t> sig) override {
    CV_RETURN_IF_ERROR(Update(data, nullptr));
    return VerifyFinal(sig);
  }
  Status VerifyFinal(std::span<const uint8_t> sig) override {
    if (sig.size() != mac_len_) return Status(Reason::kSignatureLenRange, "MAC has the wrong length");
    SecureVector mac;
    CV_RETURN_IF_ERROR(Final(&mac));
    if (!CtEqual(mac, sig)) return Status(Reason::kSignatureInvalid, "MAC does not verify");
    return OkStatus();
  }

 private:
  std::shared_ptr<const ReadyKey> key_;
  ossl::UniquePtr<EVP_MAC_CTX> ctx_;
  size_t mac_len_ = 0;
};

class DigestOp final : public OpBase {
 public:
  Status Init(const HashInfo& hash) {
    len_ = hash.size;
    ctx_.reset(EVP_MD_CTX_new());
    if (ctx_ == nullptr || EVP_DigestInit_ex2(ctx_.get(), hash.md, nullptr) != 1) {
      return ossl::OpenSslError("EVP_DigestInit_ex2");
    }
    return OkStatus();
  }
  size_t MaxOutputLength(size_t) const override { return len_; }
  Status Run(std::span<const uint8_t> in, SecureVector* out) override {
    CV_RETURN_IF_ERROR(Update(in, nullptr));
    return Final(out);
  }
  Status Update(std::span<const uint8_t> in, SecureVector*) override {
    if (EVP_DigestUpdate(ctx_.get(), in.data(), in.size()) != 1) return ossl::OpenSslError("EVP_DigestUpdate");
    return OkStatus();
  }
  Status Final(SecureVector* out) override {
    out->resize(len_);
    unsigned len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), out->data(), &len) != 1) return ossl::OpenSslError("EVP_DigestFinal_ex");
    out->resize(len);
    return OkStatus();
  }

 private:
  ossl::UniquePtr<EVP_MD_CTX> ctx_;
  size_t len_ = 0;
};

}  // namespace

bool IsHmacMech(MechanismType type) { return FindHmac(type) != nullptr; }

Result<OpPtr> NewHmacOp(OpKind kind, const Mechanism& mech, std::shared_ptr<const ReadyKey> key) {
  const HmacDef* def = FindHmac(mech.type);
  if (def == nullptr || (kind != OpKind::kSign && kind != OpKind::kVerify)) {
    return Status(Reason::kMechanismInvalid, "not an HMAC sign/verify");
  }
  if (!std::holds_alternative<std::monostate>(mech.params)) {
    return Status(Reason::kMechanismParamInvalid, "HMAC takes no parameter");
  }
  if (key == nullptr || key->object_class != CKO_SECRET_KEY ||
      (key->key_type != CKK_GENERIC_SECRET && key->key_type != def->dedicated_key_type)) {
    return Status(Reason::kKeyTypeInconsistent, "HMAC needs a generic secret or matching HMAC key");
  }
  CV_RETURN_IF_ERROR(CheckSecretKey(key->key_type, key->secret.size()));
  CV_ASSIGN_OR_RETURN(HashInfo hash, HashByMech(def->hash));
  auto op = std::make_unique<MacOp>(std::move(key));
  CV_RETURN_IF_ERROR(op->Init(HmacAlgorithm(), OSSL_MAC_PARAM_DIGEST, EVP_MD_get0_name(hash.md), hash.size));
  return OpPtr(std::move(op));
}

Result<OpPtr> NewCmacOp(OpKind kind, const Mechanism& mech, std::shared_ptr<const ReadyKey> key) {
  if (mech.type != CKM_AES_CMAC || (kind != OpKind::kSign && kind != OpKind::kVerify)) {
    return Status(Reason::kMechanismInvalid, "not a CMAC sign/verify");
  }
  if (!std::holds_alternative<std::monostate>(mech.params)) {
    return Status(Reason::kMechanismParamInvalid, "CKM_AES_CMAC takes no parameter");
  }
  if (key == nullptr || key->object_class != CKO_SECRET_KEY || key->key_type != CKK_AES) {
    return Status(Reason::kKeyTypeInconsistent, "CKM_AES_CMAC needs an AES key");
  }
  CV_RETURN_IF_ERROR(CheckSecretKey(CKK_AES, key->secret.size()));
  static const char* const kCiphers[] = {"AES-128-CBC", "AES-192-CBC", "AES-256-CBC"};
  const char* cipher = kCiphers[(key->secret.size() - 16) / 8];
  auto op = std::make_unique<MacOp>(std::move(key));
  CV_RETURN_IF_ERROR(op->Init(CmacAlgorithm(), OSSL_MAC_PARAM_CIPHER, cipher, 16));
  return OpPtr(std::move(op));
}

Result<OpPtr> NewDigestOp(const Mechanism& mech) {
  auto hash = HashByMech(mech.type);
  if (!hash.ok()) return Status(Reason::kMechanismInvalid, "not a digest mechanism");
  if (!std::holds_alternative<std::monostate>(mech.params)) {
    return Status(Reason::kMechanismParamInvalid, "digests take no parameter");
  }
  auto op = std::make_unique<DigestOp>();
  CV_RETURN_IF_ERROR(op->Init(*hash));
  return OpPtr(std::move(op));
}

}  // namespace certvault::engine
