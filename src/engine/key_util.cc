// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/engine/key_util.h"

#include <climits>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/model/pkcs11_constants.h"

namespace certvault::engine {

Result<PkeyPtr> ParsePkcs8(std::span<const uint8_t> der) {
  if (der.empty() || der.size() > LONG_MAX) return Status(Reason::kDataInvalid, "empty PKCS#8");
  const unsigned char* p = der.data();
  ossl::UniquePtr<PKCS8_PRIV_KEY_INFO> p8(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size())));
  if (p8 == nullptr || p != der.data() + der.size()) {
    ossl::ClearErrors();
    return Status(Reason::kDataInvalid, "malformed PKCS#8 PrivateKeyInfo");
  }
  PkeyPtr pkey(EVP_PKCS82PKEY_ex(p8.get(), crypto::LibCtx(), nullptr));
  if (pkey == nullptr) {
    ossl::ClearErrors();
    return Status(Reason::kDataInvalid, "unsupported or invalid PKCS#8 key");
  }
  return pkey;
}

Result<SecretBytes> EncodePkcs8(EVP_PKEY* pkey) {
  ossl::UniquePtr<PKCS8_PRIV_KEY_INFO> p8(EVP_PKEY2PKCS8(pkey));
  if (p8 == nullptr) return ossl::OpenSslError("EVP_PKEY2PKCS8");
  int len = i2d_PKCS8_PRIV_KEY_INFO(p8.get(), nullptr);
  if (len <= 0) return ossl::OpenSslError("i2d_PKCS8_PRIV_KEY_INFO");
  SecretBytes out(static_cast<size_t>(len));
  unsigned char* p = out.MutableBytes(SecretAccess::Get()).data();
  if (i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &p) != len) return ossl::OpenSslError("i2d_PKCS8_PRIV_KEY_INFO");
  return out;
}

Result<PkeyPtr> ParseSpki(std::span<const uint8_t> der) {
  if (der.empty() || der.size() > LONG_MAX) return Status(Reason::kAttributeValueInvalid, "empty SPKI");
  const unsigned char* p = der.data();
  PkeyPtr pkey(d2i_PUBKEY_ex(nullptr, &p, static_cast<long>(der.size()), crypto::LibCtx(), nullptr));
  if (pkey == nullptr || p != der.data() + der.size()) {
    ossl::ClearErrors();
    return Status(Reason::kAttributeValueInvalid, "malformed CKA_PUBLIC_KEY_INFO");
  }
  return pkey;
}

Result<Bytes> EncodeSpki(EVP_PKEY* pkey) {
  int len = i2d_PUBKEY(pkey, nullptr);
  if (len <= 0) return ossl::OpenSslError("i2d_PUBKEY");
  Bytes out(static_cast<size_t>(len));
  unsigned char* p = out.data();
  if (i2d_PUBKEY(pkey, &p) != len) return ossl::OpenSslError("i2d_PUBKEY");
  return out;
}

Result<KeyType> KeyTypeOf(EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "RSA")) return KeyType{CKK_RSA};
  if (EVP_PKEY_is_a(pkey, "EC")) return KeyType{CKK_EC};
  if (EVP_PKEY_is_a(pkey, "ED25519") || EVP_PKEY_is_a(pkey, "ED448")) return KeyType{CKK_EC_EDWARDS};
  if (EVP_PKEY_is_a(pkey, "X25519") || EVP_PKEY_is_a(pkey, "X448")) return KeyType{CKK_EC_MONTGOMERY};
  return Status(Reason::kKeyTypeInconsistent, "unsupported key algorithm");
}

Result<const Curve*> CurveOf(EVP_PKEY* pkey) {
  const Curve* curve = nullptr;
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char name[64];
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &len) != 1) {
      ossl::ClearErrors();
      return Status(Reason::kCurveNotSupported, "EC key without a named curve");
    }
    curve = CurveByName(std::string_view(name, len));
  } else {
    const char* name = EVP_PKEY_get0_type_name(pkey);
    curve = name != nullptr ? CurveByName(name) : nullptr;
  }
  if (curve == nullptr) return Status(Reason::kCurveNotSupported, "unsupported curve");
  return curve;
}

Result<size_t> KeyBits(EVP_PKEY* pkey) {
  CV_ASSIGN_OR_RETURN(KeyType type, KeyTypeOf(pkey));
  if (type == CKK_RSA) return static_cast<size_t>(EVP_PKEY_get_bits(pkey));
  CV_ASSIGN_OR_RETURN(const Curve* curve, CurveOf(pkey));
  return curve->bits;
}

Status CheckUsable(EVP_PKEY* pkey) {
  CV_ASSIGN_OR_RETURN(size_t bits, KeyBits(pkey));
  if (EVP_PKEY_is_a(pkey, "RSA") && (bits < kRsaMinBits || bits > kRsaMaxBits)) {
    return Status(Reason::kKeySizeRange, "RSA modulus must be 2048..8192 bits");
  }
  return OkStatus();
}

Result<SecureVector> BnParam(EVP_PKEY* pkey, const char* name, size_t pad) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) {
    ossl::ClearErrors();
    return Status(Reason::kAttributeTypeInvalid, "key has no such component");
  }
  ossl::UniquePtr<BIGNUM> bn(raw);  // owns the copy returned above
  size_t len = pad != 0 ? pad : static_cast<size_t>(BN_num_bytes(bn.get()));
  SecureVector out(len == 0 ? 1 : len);
  if (BN_bn2binpad(bn.get(), out.data(), static_cast<int>(out.size())) < 0) return ossl::OpenSslError("BN_bn2binpad");
  return out;
}

Result<Bytes> PublicPoint(EVP_PKEY* pkey) {
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0, &len) != 1) {
    return ossl::OpenSslError("EVP_PKEY_get_octet_string_param(pub)");
  }
  Bytes out(len);
  if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, out.data(), out.size(), &len) != 1) {
    return ossl::OpenSslError("EVP_PKEY_get_octet_string_param(pub)");
  }
  out.resize(len);
  return out;
}

Result<PkeyPtr> FromData(const char* type, int selection, OSSL_PARAM* params) {
  ossl::UniquePtr<EVP_PKEY_CTX> ctx(crypto::NewPkeyCtx(type));
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1) return ossl::OpenSslError("EVP_PKEY_fromdata_init");
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, selection, params) != 1) {
    ossl::ClearErrors();
    return Status(Reason::kAttributeValueInvalid, "invalid key components");
  }
  return PkeyPtr(raw);
}

Result<ossl::UniquePtr<BIGNUM>> ToBn(std::span<const uint8_t> be) {
  if (be.empty() || be.size() > INT_MAX) return Status(Reason::kAttributeValueInvalid, "empty big integer");
  ossl::UniquePtr<BIGNUM> bn(BN_bin2bn(be.data(), static_cast<int>(be.size()), nullptr));
  if (bn == nullptr) return ossl::OpenSslError("BN_bin2bn");
  return bn;
}

}  // namespace certvault::engine
