// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CKM_RSA_PKCS encryption (RSAES-PKCS1-v1_5), CKM_RSA_PKCS_OAEP
// (PKCS#11 v3.0 §2.1.8, CK_RSA_PKCS_OAEP_PARAMS), and CKM_RSA_X_509 (raw RSA,
// §2.1.11: encrypt, decrypt, sign and verify); single-part only.
#include <openssl/rsa.h>

#include <climits>

#include "src/base/ct.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/engine/hash.h"
#include "src/engine/ops.h"
#include "src/model/pkcs11_constants.h"

namespace certvault::engine {
namespace {

class RsaCipherOp final : public OpBase {
 public:
  RsaCipherOp(bool enc, std::shared_ptr<const ReadyKey> key) : enc_(enc), key_(std::move(key)) {}

  Status Init(const Mechanism& mech);
  size_t MaxOutputLength(size_t) const override { return k_; }
  Status Run(std::span<const uint8_t> in, SecureVector* out) override;

 private:
  Status InitOaep(const RsaOaepParams& p);

  bool enc_;
  std::shared_ptr<const ReadyKey> key_;
  ossl::UniquePtr<EVP_PKEY_CTX> ctx_;
  size_t k_ = 0;            // modulus bytes
  size_t max_input_ = 0;    // encryption: RFC 8017 §7.1.1 / §7.2.1 limits
};

Status RsaCipherOp::Init(const Mechanism& mech) {
  k_ = static_cast<size_t>(EVP_PKEY_get_size(key_->pkey.get()));
  ctx_.reset(EVP_PKEY_CTX_new_from_pkey(crypto::LibCtx(), key_->pkey.get(), nullptr));
  if (ctx_ == nullptr) return ossl::OpenSslError("EVP_PKEY_CTX_new_from_pkey");
  int rc = enc_ ? EVP_PKEY_encrypt_init(ctx_.get()) : EVP_PKEY_decrypt_init(ctx_.get());
  if (rc != 1) return ossl::OpenSslError("EVP_PKEY_encrypt_init");
  if (mech.type == CKM_RSA_PKCS_OAEP) {
    const auto* p = std::get_if<RsaOaepParams>(&mech.params);
    if (p == nullptr) return Status(Reason::kMechanismParamInvalid, "OAEP needs CK_RSA_PKCS_OAEP_PARAMS");
    return InitOaep(*p);
  }
  if (!std::holds_alternative<std::monostate>(mech.params)) {
    return Status(Reason::kMechanismParamInvalid, "CKM_RSA_PKCS takes no parameter");
  }
  max_input_ = k_ - 11;
  if (EVP_PKEY_CTX_set_rsa_padding(ctx_.get(), RSA_PKCS1_PADDING) != 1) return ossl::OpenSslError("set_rsa_padding");
  return OkStatus();
}

Status RsaCipherOp::InitOaep(const RsaOaepParams& p) {
  auto hash = HashByMech(p.hash_alg);
  if (!hash.ok() || MgfForHash(p.hash_alg) == 0) return Status(Reason::kMechanismParamInvalid, "OAEP hashAlg invalid");
  CV_ASSIGN_OR_RETURN(HashInfo mgf, HashByMgf(p.mgf));
  if ((p.source != 0 && p.source != CKZ_DATA_SPECIFIED) || (p.source == 0 && !p.label.empty()) ||
      p.label.size() > INT_MAX || k_ < 2 * hash->size + 2) {
    return Status(Reason::kMechanismParamInvalid, "OAEP source/label invalid");
  }
  max_input_ = k_ - 2 * hash->size - 2;
  if (EVP_PKEY_CTX_set_rsa_padding(ctx_.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx_.get(), hash->md) != 1 || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx_.get(), mgf.md) != 1) {
    return ossl::OpenSslError("EVP_PKEY_CTX_set_rsa_oaep_md");
  }
  if (p.label.empty()) return OkStatus();
  void* label = OPENSSL_memdup(p.label.data(), p.label.size());
  if (label == nullptr) return Status(Reason::kHostMemory, "OPENSSL_memdup");
  if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx_.get(), label, static_cast<int>(p.label.size())) != 1) {
    OPENSSL_free(label);  // not adopted on failure
    return ossl::OpenSslError("EVP_PKEY_CTX_set0_rsa_oaep_label");
  }
  return OkStatus();  // label is owned by ctx_ now
}

Status RsaCipherOp::Run(std::span<const uint8_t> in, SecureVector* out) {
  out->resize(k_);
  size_t len = out->size();
  if (enc_) {
    if (in.size() > max_input_) return Status(Reason::kDataLenRange, "plaintext too long for the RSA key");
    if (EVP_PKEY_encrypt(ctx_.get(), out->data(), &len, in.data(), in.size()) != 1) {
      return ossl::OpenSslError("EVP_PKEY_encrypt");
    }
  } else {
    if (in.size() != k_) return Status(Reason::kEncryptedDataLenRange, "ciphertext must be the modulus length");
    if (EVP_PKEY_decrypt(ctx_.get(), out->data(), &len, in.data(), in.size()) != 1) {
      ossl::ClearErrors();
      out->clear();
      return Status(Reason::kEncryptedDataInvalid, "RSA decryption failed");
    }
  }
  out->resize(len);
  return OkStatus();
}

// RawRsaOp: CKM_RSA_X_509, the bare RSA primitive for clients that pad
// themselves. Signing is the private-key operation (RSADP: m^d mod n, with
// OpenSSL's blinding), verification the public one (RSAEP), so both use the
// unpadded decrypt/encrypt primitives. Input shorter than the modulus is
// taken as a big-endian number (left-padded with zeros); §2.1.11 table:
// input <= k bytes, output k bytes.
class RawRsaOp final : public OpBase {
 public:
  RawRsaOp(OpKind kind, std::shared_ptr<const ReadyKey> key) : kind_(kind), key_(std::move(key)) {}

  Status Init() {
    k_ = static_cast<size_t>(EVP_PKEY_get_size(key_->pkey.get()));
    ctx_.reset(EVP_PKEY_CTX_new_from_pkey(crypto::LibCtx(), key_->pkey.get(), nullptr));
    if (ctx_ == nullptr) return ossl::OpenSslError("EVP_PKEY_CTX_new_from_pkey");
    int rc = Private() ? EVP_PKEY_decrypt_init(ctx_.get()) : EVP_PKEY_encrypt_init(ctx_.get());
    if (rc != 1 || EVP_PKEY_CTX_set_rsa_padding(ctx_.get(), RSA_NO_PADDING) != 1) {
      return ossl::OpenSslError("EVP_PKEY_CTX_set_rsa_padding(none)");
    }
    return OkStatus();
  }
  size_t MaxOutputLength(size_t) const override { return k_; }
  Status Run(std::span<const uint8_t> in, SecureVector* out) override {
    if (kind_ == OpKind::kDecrypt && in.size() != k_) {
      return Status(Reason::kEncryptedDataLenRange, "ciphertext must be the modulus length");
    }
    if (in.size() > k_) return Status(Reason::kDataLenRange, "input longer than the modulus");
    Status st = Primitive(in, out);
    if (!st.ok() && kind_ == OpKind::kDecrypt) return Status(Reason::kEncryptedDataInvalid, "not below the modulus");
    return st;
  }
  Status VerifyRun(std::span<const uint8_t> data, std::span<const uint8_t> sig) override {
    if (sig.size() != k_) return Status(Reason::kSignatureLenRange, "signature must be the modulus length");
    if (data.size() > k_) return Status(Reason::kDataLenRange, "input longer than the modulus");
    SecureVector recovered, expected(k_ - data.size(), 0);
    expected.insert(expected.end(), data.begin(), data.end());
    if (!Primitive(sig, &recovered).ok() || !CtEqual(recovered, expected)) {
      return Status(Reason::kSignatureInvalid, "raw RSA signature does not verify");
    }
    return OkStatus();
  }

 private:
  bool Private() const { return kind_ == OpKind::kSign || kind_ == OpKind::kDecrypt; }

  // Primitive: x^d or x^e mod n of `in` left-padded to k bytes; kDataLenRange
  // if the value is not below the modulus.
  Status Primitive(std::span<const uint8_t> in, SecureVector* out) {
    SecureVector block(k_ - in.size(), 0);
    block.insert(block.end(), in.begin(), in.end());
    out->resize(k_);
    size_t len = out->size();
    int rc = Private() ? EVP_PKEY_decrypt(ctx_.get(), out->data(), &len, block.data(), block.size())
                       : EVP_PKEY_encrypt(ctx_.get(), out->data(), &len, block.data(), block.size());
    if (rc != 1) {
      ossl::ClearErrors();
      out->clear();
      return Status(Reason::kDataLenRange, "input is not below the RSA modulus");
    }
    // RSA_NO_PADDING output is k bytes; keep the leading zeros (fixed length).
    out->resize(len);
    if (len < k_) out->insert(out->begin(), k_ - len, 0);
    return OkStatus();
  }

  OpKind kind_;
  std::shared_ptr<const ReadyKey> key_;
  ossl::UniquePtr<EVP_PKEY_CTX> ctx_;
  size_t k_ = 0;
};

}  // namespace

Result<OpPtr> NewRawRsaOp(OpKind kind, const Mechanism& mech, std::shared_ptr<const ReadyKey> key) {
  if (kind == OpKind::kDigest) return Status(Reason::kMechanismInvalid, "CKM_RSA_X_509 cannot digest");
  if (key == nullptr || key->key_type != CKK_RSA || key->pkey == nullptr) {
    return Status(Reason::kKeyTypeInconsistent, "CKM_RSA_X_509 needs an RSA key");
  }
  if (!std::holds_alternative<std::monostate>(mech.params)) {
    return Status(Reason::kMechanismParamInvalid, "CKM_RSA_X_509 takes no parameter");
  }
  CV_RETURN_IF_ERROR(CheckKeyClass(kind, *key));
  auto op = std::make_unique<RawRsaOp>(kind, std::move(key));
  CV_RETURN_IF_ERROR(op->Init());
  return OpPtr(std::move(op));
}

bool IsRsaCipherMech(MechanismType type) { return type == CKM_RSA_PKCS_OAEP || type == CKM_RSA_PKCS; }

Result<OpPtr> NewRsaCipherOp(OpKind kind, const Mechanism& mech, std::shared_ptr<const ReadyKey> key) {
  if (kind != OpKind::kEncrypt && kind != OpKind::kDecrypt) return Status(Reason::kMechanismInvalid, "encrypt/decrypt only");
  if (key == nullptr || key->key_type != CKK_RSA || key->pkey == nullptr) {
    return Status(Reason::kKeyTypeInconsistent, "RSA encryption needs an RSA key");
  }
  CV_RETURN_IF_ERROR(CheckKeyClass(kind, *key));
  auto op = std::make_unique<RsaCipherOp>(kind == OpKind::kEncrypt, std::move(key));
  CV_RETURN_IF_ERROR(op->Init(mech));
  return OpPtr(std::move(op));
}

}  // namespace certvault::engine
