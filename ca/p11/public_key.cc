// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/p11/public_key.h"

#include <array>
#include <cstring>
#include <string>

#include "ca/p11/p11_module.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_der.h"
#include "src/crypto/ossl_error.h"

namespace certvault::ca {
namespace {

constexpr size_t kMaxAttribute = 4096;

Result<Bytes> GetAttribute(CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE obj,
                           CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE attr{type, nullptr, 0};
  CV_RETURN_IF_ERROR(CheckRv(fn->C_GetAttributeValue(session, obj, &attr, 1), "C_GetAttributeValue"));
  if (attr.ulValueLen == CK_UNAVAILABLE_INFORMATION || attr.ulValueLen > kMaxAttribute) {
    return Status(Reason::kDataInvalid, "public key attribute unavailable");
  }
  Bytes out(attr.ulValueLen);
  attr.pValue = out.data();
  CV_RETURN_IF_ERROR(CheckRv(fn->C_GetAttributeValue(session, obj, &attr, 1), "C_GetAttributeValue"));
  out.resize(attr.ulValueLen);
  return out;
}

// CurveName: the OpenSSL group name of a DER namedCurve OID.
Result<std::string> CurveName(const Bytes& params) {
  const uint8_t* p = params.data();
  ossl::UniquePtr<ASN1_OBJECT> oid(d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(params.size())));  // NOLINT
  if (oid == nullptr || p != params.data() + params.size()) {
    ossl::ClearErrors();
    return Status(Reason::kDataInvalid, "CKA_EC_PARAMS is not a named curve");
  }
  int nid = OBJ_obj2nid(oid.get());
  if (nid != NID_X9_62_prime256v1 && nid != NID_secp384r1 && nid != NID_secp521r1) {
    return Status(StatusCode::kUnimplemented, Reason::kCurveNotSupported, "unsupported CA curve");
  }
  return std::string(OBJ_nid2sn(nid));
}

// EcPoint: PKCS#11 §2.3.3 stores CKA_EC_POINT as DER OCTET STRING; some
// modules return the raw point, which is accepted too.
Bytes EcPoint(const Bytes& attr) {
  const uint8_t* p = attr.data();
  ossl::UniquePtr<ASN1_STRING> os(d2i_ASN1_OCTET_STRING(nullptr, &p, static_cast<long>(attr.size())));  // NOLINT
  ossl::ClearErrors();
  if (os != nullptr && p == attr.data() + attr.size() && ASN1_STRING_length(os.get()) % 2 == 1 &&
      ASN1_STRING_get0_data(os.get())[0] == 0x04) {
    const uint8_t* d = ASN1_STRING_get0_data(os.get());
    return Bytes(d, d + ASN1_STRING_length(os.get()));
  }
  return attr;
}

Result<ossl::UniquePtr<EVP_PKEY>> FromData(const char* type, OSSL_PARAM_BLD* bld) {
  ossl::ParamsPtr params(OSSL_PARAM_BLD_to_param(bld));
  ossl::UniquePtr<EVP_PKEY_CTX> ctx(crypto::NewPkeyCtx(type));
  EVP_PKEY* raw = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return ossl::OpenSslError("EVP_PKEY_fromdata", Reason::kDataInvalid);
  }
  return ossl::UniquePtr<EVP_PKEY>(raw);
}

Result<ossl::UniquePtr<EVP_PKEY>> EcKey(CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE pub) {
  CV_ASSIGN_OR_RETURN(Bytes params, GetAttribute(fn, session, pub, CKA_EC_PARAMS));
  CV_ASSIGN_OR_RETURN(Bytes point_attr, GetAttribute(fn, session, pub, CKA_EC_POINT));
  CV_ASSIGN_OR_RETURN(std::string curve, CurveName(params));
  Bytes point = EcPoint(point_attr);
  ossl::UniquePtr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.c_str(), 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return ossl::OpenSslError("OSSL_PARAM_BLD_push");
  }
  return FromData("EC", bld.get());
}

Result<ossl::UniquePtr<EVP_PKEY>> RsaKey(CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE pub) {
  CV_ASSIGN_OR_RETURN(Bytes n_bytes, GetAttribute(fn, session, pub, CKA_MODULUS));
  CV_ASSIGN_OR_RETURN(Bytes e_bytes, GetAttribute(fn, session, pub, CKA_PUBLIC_EXPONENT));
  ossl::UniquePtr<BIGNUM> n(BN_bin2bn(n_bytes.data(), static_cast<int>(n_bytes.size()), nullptr));
  ossl::UniquePtr<BIGNUM> e(BN_bin2bn(e_bytes.data(), static_cast<int>(e_bytes.size()), nullptr));
  ossl::UniquePtr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (n == nullptr || e == nullptr || bld == nullptr ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return ossl::OpenSslError("OSSL_PARAM_BLD_push_BN");
  }
  return FromData("RSA", bld.get());
}

}  // namespace

Result<ossl::UniquePtr<EVP_PKEY>> ReadPublicKey(CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE session,
                                                CK_OBJECT_HANDLE pub) {
  CK_KEY_TYPE type = 0;
  CK_ATTRIBUTE attr{CKA_KEY_TYPE, &type, sizeof(type)};
  CV_RETURN_IF_ERROR(CheckRv(fn->C_GetAttributeValue(session, pub, &attr, 1), "C_GetAttributeValue"));
  switch (type) {
    case CKK_EC: return EcKey(fn, session, pub);
    case CKK_RSA: return RsaKey(fn, session, pub);
    default: return Status(StatusCode::kUnimplemented, Reason::kKeyTypeInconsistent, "unsupported CA key type");
  }
}

Result<Bytes> EncodePublicKeyInfo(EVP_PKEY* key) { return ossl::ToDer<EVP_PKEY, i2d_PUBKEY>(key, "i2d_PUBKEY"); }

}  // namespace certvault::ca
