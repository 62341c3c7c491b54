// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CKM_EDDSA (PKCS#11 v3.0 §2.3.14): pure Ed25519 / Ed448, single-part only.
// OpenSSL 3.0 implements neither contexts nor prehash (Ed25519ctx/ph,
// Ed448ph), so CK_EDDSA_PARAMS is accepted only with phFlag = false and an
// empty context, which is plain Ed25519 / Ed448 with an empty context.
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/engine/key_util.h"
#include "src/engine/ops.h"
#include "src/model/pkcs11_constants.h"

namespace certvault::engine {
namespace {

class EddsaOp final : public OpBase {
 public:
  EddsaOp(OpKind kind, std::shared_ptr<const ReadyKey> key) : kind_(kind), key_(std::move(key)) {}

  Status Init() {
    sig_len_ = key_->key_bits == 255 ? 64 : 114;  // RFC 8032 §5.1.6, §5.2.6
    ctx_.reset(EVP_MD_CTX_new());
    if (ctx_ == nullptr) return ossl::OpenSslError("EVP_MD_CTX_new");
    int rc = kind_ == OpKind::kSign
                 ? EVP_DigestSignInit_ex(ctx_.get(), nullptr, nullptr, crypto::LibCtx(), nullptr, key_->pkey.get(), nullptr)
                 : EVP_DigestVerifyInit_ex(ctx_.get(), nullptr, nullptr, crypto::LibCtx(), nullptr, key_->pkey.get(),
                                           nullptr);
    if (rc != 1) return ossl::OpenSslError("EVP_DigestSignInit_ex(EdDSA)");
    return OkStatus();
  }

  size_t MaxOutputLength(size_t) const override { return sig_len_; }

  // Reset: one-shot EVP_DigestSign/Verify may run again on the same context.
  bool Reset() override { return true; }

  Status Run(std::span<const uint8_t> in, SecureVector* out) override {
    out->resize(sig_len_);
    size_t len = out->size();
    if (EVP_DigestSign(ctx_.get(), out->data(), &len, in.data(), in.size()) != 1) {
      return ossl::OpenSslError("EVP_DigestSign");
    }
    out->resize(len);
    return OkStatus();
  }

  Status VerifyRun(std::span<const uint8_t> data, std::span<const uint8_t> sig) override {
    if (sig.size() != sig_len_) return Status(Reason::kSignatureLenRange, "EdDSA signature has the wrong length");
    if (EVP_DigestVerify(ctx_.get(), sig.data(), sig.size(), data.data(), data.size()) != 1) {
      ossl::ClearErrors();
      return Status(Reason::kSignatureInvalid, "signature does not verify");
    }
    return OkStatus();
  }

 private:
  OpKind kind_;
  std::shared_ptr<const ReadyKey> key_;
  ossl::UniquePtr<EVP_MD_CTX> ctx_;
  size_t sig_len_ = 0;
};

Status CheckEddsaParams(const Mechanism& mech) {
  if (std::holds_alternative<std::monostate>(mech.params)) return OkStatus();
  const auto* p = std::get_if<EddsaParams>(&mech.params);
  if (p == nullptr || p->ph_flag || !p->context.empty()) {
    return Status(Reason::kMechanismParamInvalid, "only pure EdDSA without context is supported");
  }
  return OkStatus();
}

}  // namespace

Result<OpPtr> NewEddsaOp(OpKind kind, const Mechanism& mech, std::shared_ptr<const ReadyKey> key) {
  if (kind != OpKind::kSign && kind != OpKind::kVerify) return Status(Reason::kMechanismInvalid, "sign/verify only");
  if (key == nullptr || key->key_type != CKK_EC_EDWARDS || key->pkey == nullptr) {
    return Status(Reason::kKeyTypeInconsistent, "CKM_EDDSA needs a CKK_EC_EDWARDS key");
  }
  CV_RETURN_IF_ERROR(CheckKeyClass(kind, *key));
  CV_RETURN_IF_ERROR(CheckEddsaParams(mech));
  auto op = std::make_unique<EddsaOp>(kind, std::move(key));
  CV_RETURN_IF_ERROR(op->Init());
  return OpPtr(std::move(op));
}

}  // namespace certvault::engine
