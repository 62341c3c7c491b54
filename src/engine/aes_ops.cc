// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CKM_AES_GCM (PKCS#11 v3.0 §2.14.4), CKM_AES_CBC_PAD (§2.14.2 table,
// PKCS#7 padding), and the raw modes CKM_AES_ECB, CKM_AES_CBC (no padding:
// the total input must be a multiple of the block size) and CKM_AES_CTR. GCM
// decryption buffers the input until Final: releasing plaintext before the tag
// is checked would hand out unauthenticated data.
#include <climits>

#include "src/base/ct.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/engine/key_build.h"
#include "src/engine/ops.h"
#include "src/model/pkcs11_constants.h"

namespace certvault::engine {
namespace {

constexpr size_t kBlock = 16;

enum class Mode { kCbc = 0, kGcm, kEcb, kCtr };

// AesCipher: "AES-<bits>-<mode>", fetched once per name.
const EVP_CIPHER* AesCipher(size_t key_len, Mode mode) {
  auto fetch = [](const char* name) { return EVP_CIPHER_fetch(crypto::LibCtx(), name, nullptr); };
  static EVP_CIPHER* const table[4][3] = {
      {fetch("AES-128-CBC"), fetch("AES-192-CBC"), fetch("AES-256-CBC")},
      {fetch("AES-128-GCM"), fetch("AES-192-GCM"), fetch("AES-256-GCM")},
      {fetch("AES-128-ECB"), fetch("AES-192-ECB"), fetch("AES-256-ECB")},
      {fetch("AES-128-CTR"), fetch("AES-192-CTR"), fetch("AES-256-CTR")}};
  return table[static_cast<int>(mode)][(key_len - 16) / 8];
}

Status CheckLen(size_t n) {
  if (n > INT_MAX - 2 * kBlock) return Status(Reason::kDataLenRange, "input too long");
  return OkStatus();
}

class AesOp : public OpBase {
 public:
  AesOp(bool enc, std::shared_ptr<const ReadyKey> key) : enc_(enc), key_(std::move(key)) {}

 protected:
  Status CipherUpdate(std::span<const uint8_t> in, SecureVector* out) {
    CV_RETURN_IF_ERROR(CheckLen(in.size()));
    size_t base = out->size();
    out->resize(base + in.size() + kBlock);
    int len = 0;
    if (EVP_CipherUpdate(ctx_.get(), out->data() + base, &len, in.data(), static_cast<int>(in.size())) != 1) {
      return ossl::OpenSslError("EVP_CipherUpdate");
    }
    out->resize(base + static_cast<size_t>(len));
    return OkStatus();
  }

  Status Begin(const EVP_CIPHER* cipher, const OSSL_PARAM* params) {
    ctx_.reset(EVP_CIPHER_CTX_new());
    if (cipher == nullptr || ctx_ == nullptr) return ossl::OpenSslError("EVP_CIPHER_CTX_new");
    if (EVP_CipherInit_ex2(ctx_.get(), cipher, nullptr, nullptr, enc_ ? 1 : 0, params) != 1) {
      return ossl::OpenSslError("EVP_CipherInit_ex2");
    }
    return OkStatus();
  }

  Status SetKeyIv(std::span<const uint8_t> iv) {
    if (EVP_CipherInit_ex2(ctx_.get(), nullptr, key_->secret.Bytes(SecretAccess::Get()).data(), iv.data(),
                           enc_ ? 1 : 0, nullptr) != 1) {
      return ossl::OpenSslError("EVP_CipherInit_ex2(key)");
    }
    return OkStatus();
  }

  bool enc_;
  std::shared_ptr<const ReadyKey> key_;
  ossl::UniquePtr<EVP_CIPHER_CTX> ctx_;
};

class CbcPadOp final : public AesOp {
 public:
  using AesOp::AesOp;

  Status Init(const Mechanism& mech) {
    const auto* iv = std::get_if<Bytes>(&mech.params);
    if (iv == nullptr || iv->size() != kBlock) return Status(Reason::kMechanismParamInvalid, "CBC needs a 16-byte IV");
    CV_RETURN_IF_ERROR(Begin(AesCipher(key_->secret.size(), Mode::kCbc), nullptr));
    return SetKeyIv(*iv);
  }
  size_t MaxOutputLength(size_t in) const override { return in + kBlock; }
  Status Run(std::span<const uint8_t> in, SecureVector* out) override {
    out->clear();
    CV_RETURN_IF_ERROR(Update(in, out));
    return AppendFinal(out);
  }
  Status Update(std::span<const uint8_t> in, SecureVector* out) override {
    out->clear();
    total_ += in.size();
    return CipherUpdate(in, out);
  }
  Status Final(SecureVector* out) override {
    out->clear();
    return AppendFinal(out);
  }

 private:
  Status AppendFinal(SecureVector* out) {
    if (!enc_ && total_ % kBlock != 0) return Status(Reason::kEncryptedDataLenRange, "not a multiple of 16");
    size_t base = out->size();
    out->resize(base + kBlock);
    int len = 0;
    if (EVP_CipherFinal_ex(ctx_.get(), out->data() + base, &len) != 1) {
      ossl::ClearErrors();
      return Status(enc_ ? Reason::kFunctionFailed : Reason::kEncryptedDataInvalid, "CBC padding invalid");
    }
    out->resize(base + static_cast<size_t>(len));
    return OkStatus();
  }
  size_t total_ = 0;
};

// RawOp: CKM_AES_ECB, CKM_AES_CBC and CKM_AES_CTR. No padding; ECB and CBC
// refuse a total input that is not a multiple of 16 at Final (v3.0 §2.14.2
// table: "multiple of block size"), CTR takes any length but refuses input
// that would wrap the ulCounterBits counter (the output would repeat a key
// stream block).
class RawOp final : public AesOp {
 public:
  using AesOp::AesOp;

  Status Init(const Mechanism& mech);
  size_t MaxOutputLength(size_t in) const override {
    return mode_ == Mode::kCtr ? in : ((total_ % kBlock) + in) / kBlock * kBlock;
  }
  Status Run(std::span<const uint8_t> in, SecureVector* out) override {
    out->clear();
    CV_RETURN_IF_ERROR(Update(in, out));
    SecureVector rest;
    CV_RETURN_IF_ERROR(Final(&rest));
    out->insert(out->end(), rest.begin(), rest.end());
    return OkStatus();
  }
  Status Update(std::span<const uint8_t> in, SecureVector* out) override {
    out->clear();
    total_ += in.size();
    if (mode_ == Mode::kCtr && (total_ + kBlock - 1) / kBlock > ctr_blocks_left_) {
      return Status(Reason::kDataLenRange, "input would wrap the CTR counter");
    }
    return CipherUpdate(in, out);
  }
  Status Final(SecureVector* out) override {
    out->clear();
    if (mode_ != Mode::kCtr && total_ % kBlock != 0) {
      return Status(enc_ ? Reason::kDataLenRange : Reason::kEncryptedDataLenRange, "not a multiple of 16 bytes");
    }
    return OkStatus();  // nothing is held back: no padding
  }

 private:
  Status InitCtr(const AesCtrParams& p);

  Mode mode_ = Mode::kEcb;
  size_t total_ = 0;
  uint64_t ctr_blocks_left_ = UINT64_MAX;
};

Status RawOp::Init(const Mechanism& mech) {
  if (mech.type == CKM_AES_CTR) {
    const auto* p = std::get_if<AesCtrParams>(&mech.params);
    if (p == nullptr) return Status(Reason::kMechanismParamInvalid, "CTR needs CK_AES_CTR_PARAMS");
    return InitCtr(*p);
  }
  mode_ = mech.type == CKM_AES_ECB ? Mode::kEcb : Mode::kCbc;
  const auto* iv = std::get_if<Bytes>(&mech.params);
  if (mode_ == Mode::kEcb && !std::holds_alternative<std::monostate>(mech.params)) {
    return Status(Reason::kMechanismParamInvalid, "CKM_AES_ECB takes no parameter");
  }
  if (mode_ == Mode::kCbc && (iv == nullptr || iv->size() != kBlock)) {
    return Status(Reason::kMechanismParamInvalid, "CBC needs a 16-byte IV");
  }
  CV_RETURN_IF_ERROR(Begin(AesCipher(key_->secret.size(), mode_), nullptr));
  CV_RETURN_IF_ERROR(SetKeyIv(mode_ == Mode::kCbc ? std::span<const uint8_t>(*iv) : std::span<const uint8_t>()));
  if (EVP_CIPHER_CTX_set_padding(ctx_.get(), 0) != 1) return ossl::OpenSslError("EVP_CIPHER_CTX_set_padding");
  return OkStatus();
}

// The counter is the low ulCounterBits of the block, big-endian; the blocks
// left before it wraps bound the input length.
Status RawOp::InitCtr(const AesCtrParams& p) {
  mode_ = Mode::kCtr;
  if (p.counter_bits == 0 || p.counter_bits > 128 || p.counter_block.size() != kBlock) {
    return Status(Reason::kMechanismParamInvalid, "CTR counter bits must be 1..128");
  }
  if (p.counter_bits < 64) {
    uint64_t counter = 0;
    for (size_t i = kBlock - 8; i < kBlock; ++i) counter = (counter << 8) | p.counter_block[i];
    const uint64_t modulus = uint64_t{1} << p.counter_bits;
    ctr_blocks_left_ = modulus - (counter & (modulus - 1));
  }
  CV_RETURN_IF_ERROR(Begin(AesCipher(key_->secret.size(), Mode::kCtr), nullptr));
  return SetKeyIv(p.counter_block);
}

class GcmOp final : public AesOp {
 public:
  using AesOp::AesOp;

  Status Init(const Mechanism& mech);
  size_t MaxOutputLength(size_t in) const override {
    if (enc_) return in + tag_len_;
    size_t total = buffered_.size() + in;
    return total > tag_len_ ? total - tag_len_ : 0;
  }
  Status Run(std::span<const uint8_t> in, SecureVector* out) override {
    SecureVector head;
    CV_RETURN_IF_ERROR(Update(in, &head));
    CV_RETURN_IF_ERROR(Final(out));
    out->insert(out->begin(), head.begin(), head.end());
    return OkStatus();
  }
  Status Update(std::span<const uint8_t> in, SecureVector* out) override {
    out->clear();
    if (enc_) return CipherUpdate(in, out);
    CV_RETURN_IF_ERROR(CheckLen(buffered_.size() + in.size()));
    buffered_.insert(buffered_.end(), in.begin(), in.end());
    return OkStatus();
  }
  Status Final(SecureVector* out) override {
    out->clear();
    return enc_ ? EncryptFinal(out) : DecryptFinal(out);
  }

 private:
  Status EncryptFinal(SecureVector* out);
  Status DecryptFinal(SecureVector* out);

  size_t tag_len_ = 0;
  SecureVector buffered_;  // decrypt: ciphertext || tag
};

// CK_GCM_PARAMS: IV 1..256 bytes, tag 96..128 bits in whole bytes, any AAD.
// The IV is ulIvLen bytes; ulIvBits is ignored. CK_GCM_PARAMS (Current
// Mechanisms v3.0): "Do not use ulIvBits to specify the length of the
// initialization vector, but ulIvLen instead." Clients fill it inconsistently
// (ulIvLen=16 with ulIvBits=64 is common), so refusing on it breaks them.
Status GcmOp::Init(const Mechanism& mech) {
  const auto* p = std::get_if<GcmParams>(&mech.params);
  if (p == nullptr || p->iv.empty() || p->iv.size() > 256 || p->tag_bits < 96 || p->tag_bits > 128 || p->tag_bits % 8 != 0 || p->aad.size() > INT_MAX) {
    return Status(Reason::kMechanismParamInvalid, "invalid CK_GCM_PARAMS");
  }
  tag_len_ = p->tag_bits / 8;
  size_t iv_len = p->iv.size();
  OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &iv_len),
                         OSSL_PARAM_construct_end()};
  CV_RETURN_IF_ERROR(Begin(AesCipher(key_->secret.size(), Mode::kGcm), params));
  CV_RETURN_IF_ERROR(SetKeyIv(p->iv));
  int len = 0;
  if (!p->aad.empty() && EVP_CipherUpdate(ctx_.get(), nullptr, &len, p->aad.data(), static_cast<int>(p->aad.size())) != 1) {
    return ossl::OpenSslError("EVP_CipherUpdate(aad)");
  }
  return OkStatus();
}

Status GcmOp::EncryptFinal(SecureVector* out) {
  int len = 0;
  uint8_t unused[kBlock];
  if (EVP_CipherFinal_ex(ctx_.get(), unused, &len) != 1) return ossl::OpenSslError("EVP_CipherFinal_ex");
  out->resize(tag_len_);
  if (EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag_len_), out->data()) != 1) {
    return ossl::OpenSslError("EVP_CTRL_AEAD_GET_TAG");
  }
  return OkStatus();
}

Status GcmOp::DecryptFinal(SecureVector* out) {
  if (buffered_.size() < tag_len_) return Status(Reason::kEncryptedDataLenRange, "shorter than the GCM tag");
  size_t ct_len = buffered_.size() - tag_len_;
  CV_RETURN_IF_ERROR(CipherUpdate(std::span<const uint8_t>(buffered_.data(), ct_len), out));
  if (EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag_len_), buffered_.data() + ct_len) !=
      1) {
    return ossl::OpenSslError("EVP_CTRL_AEAD_SET_TAG");
  }
  int len = 0;
  uint8_t unused[kBlock];
  if (EVP_CipherFinal_ex(ctx_.get(), unused, &len) != 1) {
    ossl::ClearErrors();
    Wipe(out->data(), out->size());
    out->clear();
    return Status(Reason::kEncryptedDataInvalid, "GCM tag mismatch");
  }
  return OkStatus();
}

}  // namespace

bool IsAesCipherMech(MechanismType type) {
  return type == CKM_AES_GCM || type == CKM_AES_CBC_PAD || type == CKM_AES_CBC || type == CKM_AES_ECB ||
         type == CKM_AES_CTR;
}

Result<OpPtr> NewAesOp(OpKind kind, const Mechanism& mech, std::shared_ptr<const ReadyKey> key) {
  if (kind != OpKind::kEncrypt && kind != OpKind::kDecrypt) return Status(Reason::kMechanismInvalid, "AES: encrypt/decrypt only");
  if (key == nullptr || key->object_class != CKO_SECRET_KEY || key->key_type != CKK_AES) {
    return Status(Reason::kKeyTypeInconsistent, "AES mechanisms need an AES key");
  }
  CV_RETURN_IF_ERROR(CheckSecretKey(CKK_AES, key->secret.size()));
  bool enc = kind == OpKind::kEncrypt;
  if (mech.type == CKM_AES_GCM) {
    auto op = std::make_unique<GcmOp>(enc, std::move(key));
    CV_RETURN_IF_ERROR(op->Init(mech));
    return OpPtr(std::move(op));
  }
  if (mech.type == CKM_AES_CBC_PAD) {
    auto op = std::make_unique<CbcPadOp>(enc, std::move(key));
    CV_RETURN_IF_ERROR(op->Init(mech));
    return OpPtr(std::move(op));
  }
  auto op = std::make_unique<RawOp>(enc, std::move(key));
  CV_RETURN_IF_ERROR(op->Init(mech));
  return OpPtr(std::move(op));
}

}  // namespace certvault::engine
