// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EarnedAttributes: the public attributes an asymmetric key object carries.
// PKCS#11 v3.0 §2.1.2-2.1.3 (RSA), §2.3.3-2.3.4 (EC), §2.3.5-2.3.10 (Edwards,
// Montgomery). CKA_MODULUS_BITS and CKA_EC_POINT are public-key attributes only.
#include "src/base/status_macros.h"
#include "src/engine/key_util.h"
#include "src/model/pkcs11_constants.h"

namespace certvault::engine {
namespace {

Status AddRsa(EVP_PKEY* pkey, ObjectClass object_class, AttributeSet* a) {
  CV_ASSIGN_OR_RETURN(SecureVector n, BnParam(pkey, OSSL_PKEY_PARAM_RSA_N));
  CV_ASSIGN_OR_RETURN(SecureVector e, BnParam(pkey, OSSL_PKEY_PARAM_RSA_E));
  a->Set(CKA_MODULUS, n);
  a->Set(CKA_PUBLIC_EXPONENT, e);
  if (object_class == CKO_PUBLIC_KEY) a->SetUlong(CKA_MODULUS_BITS, static_cast<uint64_t>(EVP_PKEY_get_bits(pkey)));
  return OkStatus();
}

Status AddEc(EVP_PKEY* pkey, ObjectClass object_class, std::span<const uint8_t> ec_params, AttributeSet* a) {
  CV_ASSIGN_OR_RETURN(const Curve* curve, CurveOf(pkey));
  if (ec_params.empty()) {
    a->Set(CKA_EC_PARAMS, curve->oid_der);
  } else {
    a->Set(CKA_EC_PARAMS, ec_params);
  }
  if (object_class == CKO_PUBLIC_KEY) {
    CV_ASSIGN_OR_RETURN(Bytes point, PublicPoint(pkey));
    a->Set(CKA_EC_POINT, DerOctetString(point));
  }
  return OkStatus();
}

}  // namespace

Result<AttributeSet> EarnedAttributes(EVP_PKEY* pkey, ObjectClass object_class, std::span<const uint8_t> ec_params) {
  CV_ASSIGN_OR_RETURN(KeyType type, KeyTypeOf(pkey));
  AttributeSet a;
  a.SetUlong(CKA_CLASS, object_class);
  a.SetUlong(CKA_KEY_TYPE, type);
  CV_ASSIGN_OR_RETURN(Bytes spki, EncodeSpki(pkey));
  a.Set(CKA_PUBLIC_KEY_INFO, spki);
  if (type == CKK_RSA) {
    CV_RETURN_IF_ERROR(AddRsa(pkey, object_class, &a));
  } else {
    CV_RETURN_IF_ERROR(AddEc(pkey, object_class, ec_params, &a));
  }
  return a;
}

}  // namespace certvault::engine
