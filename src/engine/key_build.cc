// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/engine/key_build.h"

#include <openssl/objects.h>

#include <array>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/model/pkcs11_constants.h"

namespace certvault::engine {
namespace {

Result<std::span<const uint8_t>> Required(const AttributeSet& attrs, AttributeType type) {
  auto v = attrs.GetBytes(type);
  if (!v.has_value() || v->empty()) return Status(Reason::kTemplateIncomplete, "a required key component is missing");
  return *v;
}

Result<const Curve*> CurveFromAttrs(const AttributeSet& attrs, KeyType type) {
  CV_ASSIGN_OR_RETURN(std::span<const uint8_t> params, Required(attrs, CKA_EC_PARAMS));
  CV_ASSIGN_OR_RETURN(const Curve* curve, CurveFromParams(params));
  CV_RETURN_IF_ERROR(CheckCurveType(*curve, type));
  return curve;
}

size_t RawPointLen(const Curve& c) { return c.key_type == CKK_EC ? 2 * c.field_bytes + 1 : c.field_bytes; }

Result<PkeyPtr> EcPublic(const Curve& curve, std::span<const uint8_t> point) {
  if (curve.key_type != CKK_EC) {
    PkeyPtr pkey(EVP_PKEY_new_raw_public_key_ex(crypto::LibCtx(), crypto::KeyType(curve.ossl_name), nullptr, point.data(),
                                                point.size()));
    if (pkey == nullptr) return ossl::OpenSslError("EVP_PKEY_new_raw_public_key_ex", Reason::kAttributeValueInvalid);
    return pkey;
  }
  ossl::UniquePtr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.ossl_name, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return ossl::OpenSslError("OSSL_PARAM_BLD_push");
  }
  ossl::ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (params == nullptr) return ossl::OpenSslError("OSSL_PARAM_BLD_to_param");
  return FromData("EC", EVP_PKEY_PUBLIC_KEY, params.get());
}

Result<PkeyPtr> RsaPublic(const AttributeSet& attrs) {
  CV_ASSIGN_OR_RETURN(std::span<const uint8_t> n_bytes, Required(attrs, CKA_MODULUS));
  CV_ASSIGN_OR_RETURN(std::span<const uint8_t> e_bytes, Required(attrs, CKA_PUBLIC_EXPONENT));
  CV_ASSIGN_OR_RETURN(auto n, ToBn(n_bytes));
  CV_ASSIGN_OR_RETURN(auto e, ToBn(e_bytes));
  ossl::UniquePtr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return ossl::OpenSslError("OSSL_PARAM_BLD_push_BN");
  }
  ossl::ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (params == nullptr) return ossl::OpenSslError("OSSL_PARAM_BLD_to_param");
  return FromData("RSA", EVP_PKEY_PUBLIC_KEY, params.get());
}

// EcPublicFromPrivate: Q = d*G, uncompressed (SEC 1 §2.3.3).
Result<Bytes> EcPublicFromPrivate(const Curve& curve, const BIGNUM* d) {
  ossl::UniquePtr<EC_GROUP> group(
      EC_GROUP_new_by_curve_name_ex(crypto::LibCtx(), nullptr, OBJ_sn2nid(curve.ossl_name)));
  if (group == nullptr) return ossl::OpenSslError("EC_GROUP_new_by_curve_name_ex");
  ossl::UniquePtr<EC_POINT> q(EC_POINT_new(group.get()));
  if (q == nullptr || EC_POINT_mul(group.get(), q.get(), d, nullptr, nullptr, nullptr) != 1) {
    return ossl::OpenSslError("EC_POINT_mul");
  }
  Bytes out(2 * curve.field_bytes + 1);
  if (EC_POINT_point2oct(group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, out.data(), out.size(), nullptr) !=
      out.size()) {
    return ossl::OpenSslError("EC_POINT_point2oct");
  }
  return out;
}

Result<PkeyPtr> EcPrivate(const Curve& curve, std::span<const uint8_t> value) {
  if (curve.key_type != CKK_EC) {
    if (value.size() != curve.field_bytes) return Status(Reason::kAttributeValueInvalid, "bad private key length");
    PkeyPtr pkey(EVP_PKEY_new_raw_private_key_ex(crypto::LibCtx(), crypto::KeyType(curve.ossl_name), nullptr, value.data(),
                                                 value.size()));
    if (pkey == nullptr) return ossl::OpenSslError("EVP_PKEY_new_raw_private_key_ex", Reason::kAttributeValueInvalid);
    return pkey;
  }
  CV_ASSIGN_OR_RETURN(auto d, ToBn(value));
  CV_ASSIGN_OR_RETURN(Bytes point, EcPublicFromPrivate(curve, d.get()));
  ossl::UniquePtr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.ossl_name, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1) {
    return ossl::OpenSslError("OSSL_PARAM_BLD_push");
  }
  ossl::SecretParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (params == nullptr) return ossl::OpenSslError("OSSL_PARAM_BLD_to_param");
  return FromData("EC", EVP_PKEY_KEYPAIR, params.get());
}

Result<PkeyPtr> RsaPrivate(const AttributeSet& attrs) {
  static constexpr std::array<std::pair<AttributeType, const char*>, 8> kParts = {{
      {CKA_MODULUS, OSSL_PKEY_PARAM_RSA_N},          {CKA_PUBLIC_EXPONENT, OSSL_PKEY_PARAM_RSA_E},
      {CKA_PRIVATE_EXPONENT, OSSL_PKEY_PARAM_RSA_D}, {CKA_PRIME_1, OSSL_PKEY_PARAM_RSA_FACTOR1},
      {CKA_PRIME_2, OSSL_PKEY_PARAM_RSA_FACTOR2},    {CKA_EXPONENT_1, OSSL_PKEY_PARAM_RSA_EXPONENT1},
      {CKA_EXPONENT_2, OSSL_PKEY_PARAM_RSA_EXPONENT2}, {CKA_COEFFICIENT, OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
  }};
  std::array<ossl::UniquePtr<BIGNUM>, kParts.size()> bns;
  ossl::UniquePtr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr) return ossl::OpenSslError("OSSL_PARAM_BLD_new");
  for (size_t i = 0; i < kParts.size(); ++i) {
    CV_ASSIGN_OR_RETURN(std::span<const uint8_t> bytes, Required(attrs, kParts[i].first));
    CV_ASSIGN_OR_RETURN(bns[i], ToBn(bytes));
    if (OSSL_PARAM_BLD_push_BN(bld.get(), kParts[i].second, bns[i].get()) != 1) {
      return ossl::OpenSslError("OSSL_PARAM_BLD_push_BN");
    }
  }
  ossl::SecretParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (params == nullptr) return ossl::OpenSslError("OSSL_PARAM_BLD_to_param");
  return FromData("RSA", EVP_PKEY_KEYPAIR, params.get());
}

// Validate: the pairwise consistency check, so that a bad import fails now
// rather than producing wrong signatures later.
Status Validate(EVP_PKEY* pkey) {
  ossl::UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(crypto::LibCtx(), pkey, nullptr));
  if (ctx == nullptr) return ossl::OpenSslError("EVP_PKEY_CTX_new_from_pkey");
  if (EVP_PKEY_pairwise_check(ctx.get()) != 1) {
    ossl::ClearErrors();
    return Status(Reason::kAttributeValueInvalid, "inconsistent key components");
  }
  return OkStatus();
}

}  // namespace

Status CheckSecretKey(KeyType type, size_t len) {
  switch (type) {
    case CKK_AES:
      if (len == 16 || len == 24 || len == 32) return OkStatus();
      return Status(Reason::kKeySizeRange, "AES keys are 16, 24 or 32 bytes");
    case CKK_GENERIC_SECRET:
    case CKK_SHA_1_HMAC:
    case CKK_SHA224_HMAC:
    case CKK_SHA256_HMAC:
    case CKK_SHA384_HMAC:
    case CKK_SHA512_HMAC:
      if (len >= 1 && len <= kGenericSecretMaxBytes) return OkStatus();
      return Status(Reason::kKeySizeRange, "secret keys are 1..512 bytes");
    default:
      return Status(Reason::kKeyTypeInconsistent, "unsupported secret key type");
  }
}

Status CheckCurveType(const Curve& curve, KeyType type) {
  if (curve.key_type != type) return Status(Reason::kTemplateInconsistent, "curve does not match CKA_KEY_TYPE");
  return OkStatus();
}

Result<PkeyPtr> PublicFromAttrs(const AttributeSet& attrs, KeyType type) {
  auto spki = attrs.GetBytes(CKA_PUBLIC_KEY_INFO);
  if (spki.has_value() && !spki->empty()) {
    CV_ASSIGN_OR_RETURN(PkeyPtr pkey, ParseSpki(*spki));
    CV_ASSIGN_OR_RETURN(KeyType actual, KeyTypeOf(pkey.get()));
    if (actual != type) return Status(Reason::kKeyTypeInconsistent, "CKA_PUBLIC_KEY_INFO is of another key type");
    return pkey;
  }
  if (type == CKK_RSA) return RsaPublic(attrs);
  if (type != CKK_EC && type != CKK_EC_EDWARDS && type != CKK_EC_MONTGOMERY) {
    return Status(Reason::kKeyTypeInconsistent, "unsupported public key type");
  }
  CV_ASSIGN_OR_RETURN(const Curve* curve, CurveFromAttrs(attrs, type));
  CV_ASSIGN_OR_RETURN(std::span<const uint8_t> point_attr, Required(attrs, CKA_EC_POINT));
  CV_ASSIGN_OR_RETURN(Bytes point, PointFromAttr(point_attr, RawPointLen(*curve)));
  return EcPublic(*curve, point);
}

Result<PkeyPtr> PrivateFromAttrs(const AttributeSet& attrs, KeyType type) {
  PkeyPtr pkey;
  if (type == CKK_RSA) {
    CV_ASSIGN_OR_RETURN(pkey, RsaPrivate(attrs));
  } else if (type == CKK_EC || type == CKK_EC_EDWARDS || type == CKK_EC_MONTGOMERY) {
    CV_ASSIGN_OR_RETURN(const Curve* curve, CurveFromAttrs(attrs, type));
    CV_ASSIGN_OR_RETURN(std::span<const uint8_t> value, Required(attrs, CKA_VALUE));
    CV_ASSIGN_OR_RETURN(pkey, EcPrivate(*curve, value));
  } else {
    return Status(Reason::kKeyTypeInconsistent, "unsupported private key type");
  }
  if (type == CKK_RSA || type == CKK_EC) CV_RETURN_IF_ERROR(Validate(pkey.get()));
  return pkey;
}

}  // namespace certvault::engine
