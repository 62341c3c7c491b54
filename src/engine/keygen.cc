// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// GenerateKeyPair and GenerateKey (engine.h).
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/crypto/random.h"
#include "src/engine/engine.h"
#include "src/engine/key_build.h"
#include "src/model/pkcs11_constants.h"
#include "src/selftest/pct.h"
#include "src/selftest/selftest.h"

namespace certvault::engine {
namespace {

constexpr uint64_t kDefaultRsaExponent = 65537;

Status CheckNoParams(const Mechanism& mech) {
  if (!std::holds_alternative<std::monostate>(mech.params)) {
    return Status(Reason::kMechanismParamInvalid, "key generation takes no mechanism parameter");
  }
  return OkStatus();
}

// CheckTemplateType: a CKA_KEY_TYPE in a template must agree with the mechanism.
Status CheckTemplateType(const AttributeSet& tmpl, KeyType type) {
  auto t = tmpl.GetUlong(CKA_KEY_TYPE);
  if (tmpl.Has(CKA_KEY_TYPE) && (!t.has_value() || *t != type)) {
    return Status(Reason::kTemplateInconsistent, "CKA_KEY_TYPE does not match the mechanism");
  }
  return OkStatus();
}

Result<PkeyPtr> Generate(EVP_PKEY_CTX* ctx) {
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_generate(ctx, &raw) != 1) return ossl::OpenSslError("EVP_PKEY_generate");
  return PkeyPtr(raw);
}

Result<PkeyPtr> GenerateRsa(const AttributeSet& pub_tmpl) {
  auto bits = pub_tmpl.GetUlong(CKA_MODULUS_BITS);
  if (!bits.has_value()) return Status(Reason::kTemplateIncomplete, "CKA_MODULUS_BITS is required");
  if (*bits < kRsaMinBits || *bits > kRsaGenMaxBits) {
    return Status(Reason::kKeySizeRange, "RSA key generation supports 2048..4096 bits");
  }
  ossl::UniquePtr<BIGNUM> e(BN_new());
  if (e == nullptr || BN_set_word(e.get(), kDefaultRsaExponent) != 1) return ossl::OpenSslError("BN_set_word");
  auto e_attr = pub_tmpl.GetBytes(CKA_PUBLIC_EXPONENT);
  if (e_attr.has_value()) {
    CV_ASSIGN_OR_RETURN(e, ToBn(*e_attr));
    // FIPS 186-5 §A.1.1: 2^16 < e < 2^256, e odd.
    if (!BN_is_odd(e.get()) || BN_num_bits(e.get()) < 17 || BN_num_bits(e.get()) > 256) {
      return Status(Reason::kAttributeValueInvalid, "CKA_PUBLIC_EXPONENT must be odd and in (2^16, 2^256)");
    }
  }
  ossl::UniquePtr<EVP_PKEY_CTX> ctx(crypto::NewPkeyCtx("RSA"));
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), static_cast<int>(*bits)) != 1 ||
      EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx.get(), e.get()) != 1) {
    return ossl::OpenSslError("EVP_PKEY_keygen_init(RSA)");
  }
  return Generate(ctx.get());
}

Result<PkeyPtr> GenerateCurve(const Curve& curve) {
  const char* type = curve.key_type == CKK_EC ? "EC" : curve.ossl_name;
  ossl::UniquePtr<EVP_PKEY_CTX> ctx(crypto::NewPkeyCtx(type));
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx.get()) != 1) return ossl::OpenSslError("EVP_PKEY_keygen_init");
  if (curve.key_type == CKK_EC && EVP_PKEY_CTX_set_group_name(ctx.get(), curve.ossl_name) != 1) {
    return ossl::OpenSslError("EVP_PKEY_CTX_set_group_name");
  }
  return Generate(ctx.get());
}

Result<KeyType> PairTypeFor(MechanismType mech) {
  switch (mech) {
    case CKM_RSA_PKCS_KEY_PAIR_GEN: return KeyType{CKK_RSA};
    case CKM_EC_KEY_PAIR_GEN: return KeyType{CKK_EC};
    case CKM_EC_EDWARDS_KEY_PAIR_GEN: return KeyType{CKK_EC_EDWARDS};
    case CKM_EC_MONTGOMERY_KEY_PAIR_GEN: return KeyType{CKK_EC_MONTGOMERY};
    default: return Status(Reason::kMechanismInvalid, "not a key pair generation mechanism");
  }
}

}  // namespace

Result<NewKeyPair> GenerateKeyPair(const Mechanism& mech, const AttributeSet& public_tmpl,
                                   const AttributeSet& private_tmpl) {
  CV_RETURN_IF_ERROR(selftest::ErrorStateStatus());
  CV_ASSIGN_OR_RETURN(KeyType type, PairTypeFor(mech.type));
  CV_RETURN_IF_ERROR(CheckNoParams(mech));
  CV_RETURN_IF_ERROR(CheckTemplateType(public_tmpl, type));
  CV_RETURN_IF_ERROR(CheckTemplateType(private_tmpl, type));
  PkeyPtr pkey;
  std::span<const uint8_t> ec_params;
  if (type == CKK_RSA) {
    CV_ASSIGN_OR_RETURN(pkey, GenerateRsa(public_tmpl));
  } else {
    auto params = public_tmpl.GetBytes(CKA_EC_PARAMS);
    if (!params.has_value()) return Status(Reason::kTemplateIncomplete, "CKA_EC_PARAMS is required");
    ec_params = *params;
    CV_ASSIGN_OR_RETURN(const Curve* curve, CurveFromParams(ec_params));
    CV_RETURN_IF_ERROR(CheckCurveType(*curve, type));
    CV_ASSIGN_OR_RETURN(pkey, GenerateCurve(*curve));
  }
  // FIPS 140-3 (ISO/IEC 19790 §7.10.3.3): a pairwise-consistency test on every
  // generated key pair; a failure is the error state (docs/design/selftest.md).
  CV_RETURN_IF_ERROR(selftest::PairwiseConsistencyTest(pkey.get()));
  NewKeyPair out;
  CV_ASSIGN_OR_RETURN(out.public_key.attrs, EarnedAttributes(pkey.get(), CKO_PUBLIC_KEY, ec_params));
  CV_ASSIGN_OR_RETURN(out.private_key.attrs, EarnedAttributes(pkey.get(), CKO_PRIVATE_KEY, ec_params));
  CV_ASSIGN_OR_RETURN(out.private_key.material, EncodePkcs8(pkey.get()));
  return out;
}

Result<NewKey> GenerateKey(const Mechanism& mech, const AttributeSet& tmpl) {
  CV_RETURN_IF_ERROR(selftest::ErrorStateStatus());
  KeyType type = 0;
  if (mech.type == CKM_AES_KEY_GEN) {
    type = CKK_AES;
  } else if (mech.type == CKM_GENERIC_SECRET_KEY_GEN) {
    type = tmpl.GetUlong(CKA_KEY_TYPE).value_or(CKK_GENERIC_SECRET);
    if (type == CKK_AES) return Status(Reason::kTemplateInconsistent, "use CKM_AES_KEY_GEN for AES keys");
  } else {
    return Status(Reason::kMechanismInvalid, "not a secret key generation mechanism");
  }
  CV_RETURN_IF_ERROR(CheckNoParams(mech));
  CV_RETURN_IF_ERROR(CheckTemplateType(tmpl, type));
  auto len = tmpl.GetUlong(CKA_VALUE_LEN);
  if (!len.has_value()) return Status(Reason::kTemplateIncomplete, "CKA_VALUE_LEN is required");
  Status size_ok = CheckSecretKey(type, *len);
  if (!size_ok.ok()) {
    return size_ok.reason() == Reason::kKeySizeRange ? Status(Reason::kAttributeValueInvalid, size_ok.message())
                                                     : size_ok;
  }
  NewKey out;
  CV_ASSIGN_OR_RETURN(out.material, crypto::NewRandomSecret(*len));
  out.attrs.SetUlong(CKA_CLASS, CKO_SECRET_KEY);
  out.attrs.SetUlong(CKA_KEY_TYPE, type);
  out.attrs.SetUlong(CKA_VALUE_LEN, *len);
  return out;
}

}  // namespace certvault::engine
