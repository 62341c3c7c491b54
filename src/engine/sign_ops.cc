// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Asymmetric signatures: RSA PKCS#1 v1.5 and PSS, ECDSA (PKCS#11 v3.0 §2.1,
// §2.3). The hashed mechanisms stream data into an EVP_MD_CTX and sign the
// digest with an EVP_PKEY_CTX prepared once per operation, so the per-call
// cost is the private-key operation itself.
#include <openssl/rsa.h>

#include <array>
#include <climits>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/engine/curves.h"
#include "src/engine/ecdsa_sig.h"
#include "src/engine/hash.h"
#include "src/engine/key_util.h"
#include "src/engine/ops.h"
#include "src/model/pkcs11_constants.h"

namespace certvault::engine {
namespace {

enum class Scheme { kRsaPkcs1, kRsaPss, kEcdsa };

struct SignMechDef {
  MechanismType mech;
  Scheme scheme;
  MechanismType hash;  // 0: the caller supplies the digest (or DigestInfo)
};

constexpr std::array<SignMechDef, 17> kSignMechs = {{
    {CKM_RSA_PKCS, Scheme::kRsaPkcs1, 0},
    {CKM_SHA224_RSA_PKCS, Scheme::kRsaPkcs1, CKM_SHA224},
    {CKM_SHA256_RSA_PKCS, Scheme::kRsaPkcs1, CKM_SHA256},
    {CKM_SHA384_RSA_PKCS, Scheme::kRsaPkcs1, CKM_SHA384},
    {CKM_SHA512_RSA_PKCS, Scheme::kRsaPkcs1, CKM_SHA512},
    {CKM_RSA_PKCS_PSS, Scheme::kRsaPss, 0},
    {CKM_SHA224_RSA_PKCS_PSS, Scheme::kRsaPss, CKM_SHA224},
    {CKM_SHA256_RSA_PKCS_PSS, Scheme::kRsaPss, CKM_SHA256},
    {CKM_SHA384_RSA_PKCS_PSS, Scheme::kRsaPss, CKM_SHA384},
    {CKM_SHA512_RSA_PKCS_PSS, Scheme::kRsaPss, CKM_SHA512},
    {CKM_ECDSA, Scheme::kEcdsa, 0},
    {CKM_ECDSA_SHA1, Scheme::kEcdsa, CKM_SHA_1},
    {CKM_ECDSA_SHA224, Scheme::kEcdsa, CKM_SHA224},
    {CKM_ECDSA_SHA256, Scheme::kEcdsa, CKM_SHA256},
    {CKM_ECDSA_SHA384, Scheme::kEcdsa, CKM_SHA384},
    {CKM_ECDSA_SHA512, Scheme::kEcdsa, CKM_SHA512},
    {CKM_SHA1_RSA_PKCS, Scheme::kRsaPkcs1, CKM_SHA_1},
}};

const SignMechDef* FindSignMech(MechanismType type) {
  for (const SignMechDef& d : kSignMechs) {
    if (d.mech == type) return &d;
  }
  return nullptr;
}

// PkeySignOp: one sign or verify operation. Not thread-safe (CryptoOp contract).
class PkeySignOp final : public OpBase {
 public:
  PkeySignOp(OpKind kind, Scheme scheme, std::shared_ptr<const ReadyKey> key)
      : kind_(kind), scheme_(scheme), key_(std::move(key)) {}

  Status Init(const Mechanism& mech, const SignMechDef& def);
  size_t MaxOutputLength(size_t) const override { return sig_len_; }
  Status Run(std::span<const uint8_t> in, SecureVector* out) override;
  Status Update(std::span<const uint8_t> in, SecureVector* out) override;
  Status Final(SecureVector* out) override;
  Status VerifyRun(std::span<const uint8_t> data, std::span<const uint8_t> sig) override;
  Status VerifyFinal(std::span<const uint8_t> sig) override;
  // Reset: EVP_PKEY_sign/verify may run again on the initialized context; a
  // hashed mechanism restarts its digest.
  bool Reset() override {
    return md_ctx_ == nullptr || EVP_DigestInit_ex2(md_ctx_.get(), md_, nullptr) == 1;
  }

 private:
  Status InitPss(const Mechanism& mech, const SignMechDef& def);
  Status CheckRawInput(std::span<const uint8_t> in) const;
  Status FinishDigest(std::array<uint8_t, EVP_MAX_MD_SIZE>* md, unsigned* md_len);
  Status SignTbs(std::span<const uint8_t> tbs, SecureVector* out);
  Status VerifyTbs(std::span<const uint8_t> tbs, std::span<const uint8_t> sig);

  OpKind kind_;
  Scheme scheme_;
  std::shared_ptr<const ReadyKey> key_;
  ossl::UniquePtr<EVP_PKEY_CTX> pctx_;
  ossl::UniquePtr<EVP_MD_CTX> md_ctx_;  // hashed mechanisms only
  const EVP_MD* md_ = nullptr;          // its digest (static for the process)
  size_t sig_len_ = 0;
  size_t raw_len_ = 0;  // raw PSS: the exact digest length
  size_t field_bytes_ = 0;
};

Status PkeySignOp::Init(const Mechanism& mech, const SignMechDef& def) {
  EVP_PKEY* pkey = key_->pkey.get();
  pctx_.reset(EVP_PKEY_CTX_new_from_pkey(crypto::LibCtx(), pkey, nullptr));
  if (pctx_ == nullptr) return ossl::OpenSslError("EVP_PKEY_CTX_new_from_pkey");
  int rc = kind_ == OpKind::kSign ? EVP_PKEY_sign_init(pctx_.get()) : EVP_PKEY_verify_init(pctx_.get());
  if (rc != 1) return ossl::OpenSslError("EVP_PKEY_sign_init");
  if (def.hash != 0) {
    CV_ASSIGN_OR_RETURN(HashInfo h, HashByMech(def.hash));
    md_ = h.md;
    md_ctx_.reset(EVP_MD_CTX_new());
    if (md_ctx_ == nullptr || EVP_DigestInit_ex2(md_ctx_.get(), h.md, nullptr) != 1) {
      return ossl::OpenSslError("EVP_DigestInit_ex2");
    }
  }
  if (scheme_ == Scheme::kEcdsa) {
    if (!std::holds_alternative<std::monostate>(mech.params)) {
      return Status(Reason::kMechanismParamInvalid, "ECDSA takes no parameter");
    }
    CV_ASSIGN_OR_RETURN(const Curve* curve, CurveOf(pkey));
    field_bytes_ = curve->field_bytes;
    sig_len_ = 2 * field_bytes_;
    return OkStatus();
  }
  sig_len_ = static_cast<size_t>(EVP_PKEY_get_size(pkey));
  if (scheme_ == Scheme::kRsaPss) return InitPss(mech, def);
  if (!std::holds_alternative<std::monostate>(mech.params)) {
    return Status(Reason::kMechanismParamInvalid, "RSA PKCS#1 v1.5 takes no parameter");
  }
  if (EVP_PKEY_CTX_set_rsa_padding(pctx_.get(), RSA_PKCS1_PADDING) != 1) {
    return ossl::OpenSslError("EVP_PKEY_CTX_set_rsa_padding");
  }
  if (def.hash == 0) return OkStatus();
  CV_ASSIGN_OR_RETURN(HashInfo h, HashByMech(def.hash));
  if (EVP_PKEY_CTX_set_signature_md(pctx_.get(), h.md) != 1) return ossl::OpenSslError("set_signature_md");
  return OkStatus();
}

// PKCS#11 v3.0 §2.1.14: CK_RSA_PKCS_PSS_PARAMS names the hash, the MGF and
// the salt length; for the hashed variants hashAlg must be the mechanism's hash.
Status PkeySignOp::InitPss(const Mechanism& mech, const SignMechDef& def) {
  const auto* p = std::get_if<RsaPssParams>(&mech.params);
  if (p == nullptr) return Status(Reason::kMechanismParamInvalid, "PSS requires CK_RSA_PKCS_PSS_PARAMS");
  auto hash = HashByMech(p->hash_alg);
  if (!hash.ok() || MgfForHash(p->hash_alg) == 0 || (def.hash != 0 && def.hash != p->hash_alg)) {
    return Status(Reason::kMechanismParamInvalid, "PSS hashAlg invalid for this mechanism");
  }
  auto mgf = HashByMgf(p->mgf);
  if (!mgf.ok()) return mgf.status();
  // RFC 8017 §9.1.1: emLen >= hLen + sLen + 2, emLen = ceil((modBits - 1) / 8).
  size_t em_len = (key_->key_bits - 1 + 7) / 8;
  if (p->salt_len > INT_MAX || em_len < hash->size + p->salt_len + 2) {
    return Status(Reason::kMechanismParamInvalid, "PSS salt length too large for the key");
  }
  raw_len_ = hash->size;
  if (EVP_PKEY_CTX_set_rsa_padding(pctx_.get(), RSA_PKCS1_PSS_PADDING) != 1 ||
      EVP_PKEY_CTX_set_signature_md(pctx_.get(), hash->md) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(pctx_.get(), mgf->md) != 1 ||
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx_.get(), static_cast<int>(p->salt_len)) != 1) {
    return ossl::OpenSslError("EVP_PKEY_CTX_set_rsa_pss");
  }
  return OkStatus();
}

Status PkeySignOp::CheckRawInput(std::span<const uint8_t> in) const {
  if (scheme_ == Scheme::kRsaPss && in.size() != raw_len_) {
    return Status(Reason::kDataLenRange, "CKM_RSA_PKCS_PSS input must be the digest");
  }
  // RFC 8017 §9.2 note 1: the DigestInfo is at most k - 11 bytes.
  if (scheme_ == Scheme::kRsaPkcs1 && in.size() + 11 > sig_len_) {
    return Status(Reason::kDataLenRange, "input too long for CKM_RSA_PKCS");
  }
  if (in.empty()) return Status(Reason::kDataLenRange, "empty input");
  return OkStatus();
}

Status PkeySignOp::FinishDigest(std::array<uint8_t, EVP_MAX_MD_SIZE>* md, unsigned* md_len) {
  if (EVP_DigestFinal_ex(md_ctx_.get(), md->data(), md_len) != 1) return ossl::OpenSslError("EVP_DigestFinal_ex");
  return OkStatus();
}

Status PkeySignOp::SignTbs(std::span<const uint8_t> tbs, SecureVector* out) {
  if (scheme_ != Scheme::kEcdsa) {
    out->resize(sig_len_);
    size_t len = out->size();
    if (EVP_PKEY_sign(pctx_.get(), out->data(), &len, tbs.data(), tbs.size()) != 1) {
      return ossl::OpenSslError("EVP_PKEY_sign");
    }
    out->resize(len);
    return OkStatus();
  }
  std::array<uint8_t, kMaxEcdsaDerSize> der;
  size_t der_len = der.size();
  if (EVP_PKEY_sign(pctx_.get(), der.data(), &der_len, tbs.data(), tbs.size()) != 1) {
    return ossl::OpenSslError("EVP_PKEY_sign");
  }
  return EcdsaDerToRaw(std::span<const uint8_t>(der.data(), der_len), field_bytes_, out);
}

Status PkeySignOp::VerifyTbs(std::span<const uint8_t> tbs, std::span<const uint8_t> sig) {
  if (sig.size() != sig_len_) return Status(Reason::kSignatureLenRange, "signature has the wrong length");
  int rc = 0;
  if (scheme_ == Scheme::kEcdsa) {
    CV_ASSIGN_OR_RETURN(Bytes der, EcdsaRawToDer(sig));
    rc = EVP_PKEY_verify(pctx_.get(), der.data(), der.size(), tbs.data(), tbs.size());
  } else {
    rc = EVP_PKEY_verify(pctx_.get(), sig.data(), sig.size(), tbs.data(), tbs.size());
  }
  if (rc != 1) {
    ossl::ClearErrors();
    return Status(Reason::kSignatureInvalid, "signature does not verify");
  }
  return OkStatus();
}

Status PkeySignOp::Run(std::span<const uint8_t> in, SecureVector* out) {
  if (md_ctx_ == nullptr) {
    CV_RETURN_IF_ERROR(CheckRawInput(in));
    return SignTbs(in, out);
  }
  CV_RETURN_IF_ERROR(Update(in, nullptr));
  return Final(out);
}

Status PkeySignOp::Update(std::span<const uint8_t> in, SecureVector*) {
  // Raw mechanisms are single-part (PKCS#11 v3.0 §2.1.6, §2.3.6 tables).
  if (md_ctx_ == nullptr) return Unsupported();
  if (EVP_DigestUpdate(md_ctx_.get(), in.data(), in.size()) != 1) return ossl::OpenSslError("EVP_DigestUpdate");
  return OkStatus();
}

Status PkeySignOp::Final(SecureVector* out) {
  if (md_ctx_ == nullptr) return Unsupported();
  std::array<uint8_t, EVP_MAX_MD_SIZE> md;
  unsigned md_len = 0;
  CV_RETURN_IF_ERROR(FinishDigest(&md, &md_len));
  return SignTbs(std::span<const uint8_t>(md.data(), md_len), out);
}

Status PkeySignOp::VerifyRun(std::span<const uint8_t> data, std::span<const uint8_t> sig) {
  if (md_ctx_ == nullptr) {
    CV_RETURN_IF_ERROR(CheckRawInput(data));
    return VerifyTbs(data, sig);
  }
  CV_RETURN_IF_ERROR(Update(data, nullptr));
  return VerifyFinal(sig);
}

Status PkeySignOp::VerifyFinal(std::span<const uint8_t> sig) {
  if (md_ctx_ == nullptr) return Unsupported();
  std::array<uint8_t, EVP_MAX_MD_SIZE> md;
  unsigned md_len = 0;
  CV_RETURN_IF_ERROR(FinishDigest(&md, &md_len));
  return VerifyTbs(std::span<const uint8_t>(md.data(), md_len), sig);
}

}  // namespace

bool IsPkeySignMech(MechanismType type) { return FindSignMech(type) != nullptr; }

Result<OpPtr> NewPkeySignOp(OpKind kind, const Mechanism& mech, std::shared_ptr<const ReadyKey> key) {
  const SignMechDef* def = FindSignMech(mech.type);
  if (def == nullptr) return Status(Reason::kMechanismInvalid, "not a signature mechanism");
  if (kind != OpKind::kSign && kind != OpKind::kVerify) return Status(Reason::kMechanismInvalid, "sign/verify only");
  KeyType want = def->scheme == Scheme::kEcdsa ? CKK_EC : CKK_RSA;
  if (key == nullptr || key->key_type != want || key->pkey == nullptr) {
    return Status(Reason::kKeyTypeInconsistent, "key type does not match the mechanism");
  }
  CV_RETURN_IF_ERROR(CheckKeyClass(kind, *key));
  auto op = std::make_unique<PkeySignOp>(kind, def->scheme, std::move(key));
  CV_RETURN_IF_ERROR(op->Init(mech, *def));
  return OpPtr(std::move(op));
}

}  // namespace certvault::engine
