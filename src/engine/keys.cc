// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// LoadKey, ImportKey, ImportPkcs8, PrivateComponent (engine.h).
#include <array>

#include "src/base/status_macros.h"
#include "src/crypto/ossl_error.h"
#include "src/engine/engine.h"
#include "src/engine/key_build.h"
#include "src/engine/load_hook.h"
#include "src/model/pkcs11_constants.h"
#include "src/selftest/pct.h"
#include "src/selftest/selftest.h"

namespace certvault::engine {
namespace {

// Private components never stay in the attribute set: they move into the
// PKCS#8 material (PKCS#11 v3.0 §4.9: these are the sensitive attributes).
constexpr std::array<AttributeType, 7> kPrivateComponents = {
    CKA_VALUE, CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT};

void MergeInto(AttributeSet* into, const AttributeSet& from) {
  for (const Attribute& a : from.items()) into->Set(a.type, a.value);
}

Result<std::pair<ObjectClass, KeyType>> ClassAndType(const AttributeSet& attrs) {
  auto cls = attrs.GetUlong(CKA_CLASS);
  auto type = attrs.GetUlong(CKA_KEY_TYPE);
  if (!cls.has_value() || !type.has_value()) {
    return Status(Reason::kTemplateIncomplete, "CKA_CLASS and CKA_KEY_TYPE are required");
  }
  return std::make_pair(*cls, *type);
}

Result<std::shared_ptr<const ReadyKey>> ReadyFromPkey(ObjectClass cls, KeyType type, PkeyPtr pkey) {
  CV_ASSIGN_OR_RETURN(KeyType actual, KeyTypeOf(pkey.get()));
  if (actual != type) return Status(Reason::kKeyTypeInconsistent, "key material does not match CKA_KEY_TYPE");
  CV_RETURN_IF_ERROR(CheckUsable(pkey.get()));
  auto key = std::make_shared<ReadyKey>();
  key->object_class = cls;
  key->key_type = type;
  CV_ASSIGN_OR_RETURN(key->key_bits, KeyBits(pkey.get()));
  key->pkey = std::move(pkey);
  return std::shared_ptr<const ReadyKey>(std::move(key));
}

Result<NewKey> ImportSecret(const AttributeSet& tmpl, KeyType type) {
  auto value = tmpl.GetBytes(CKA_VALUE);
  if (!value.has_value()) return Status(Reason::kTemplateIncomplete, "CKA_VALUE is required");
  CV_RETURN_IF_ERROR(CheckSecretKey(type, value->size()));
  auto len = tmpl.GetUlong(CKA_VALUE_LEN);
  if (len.has_value() && *len != value->size()) {
    return Status(Reason::kTemplateInconsistent, "CKA_VALUE_LEN does not match CKA_VALUE");
  }
  NewKey out;
  out.material = SecretBytes(*value, SecretAccess::Get());
  out.attrs = tmpl;
  out.attrs.Erase(CKA_VALUE);
  out.attrs.SetUlong(CKA_VALUE_LEN, value->size());
  return out;
}

}  // namespace

Result<std::shared_ptr<const ReadyKey>> LoadKey(const AttributeSet& attrs, const SecretBytes* material) {
  RunLoadKeyHook();  // tests only (load_hook.h)
  CV_ASSIGN_OR_RETURN(auto ct, ClassAndType(attrs));
  auto [cls, type] = ct;
  if (cls == CKO_PUBLIC_KEY) {
    CV_ASSIGN_OR_RETURN(PkeyPtr pkey, PublicFromAttrs(attrs, type));
    return ReadyFromPkey(cls, type, std::move(pkey));
  }
  if (material == nullptr || material->empty()) return Status(Reason::kTemplateIncomplete, "key material missing");
  if (cls == CKO_PRIVATE_KEY) {
    CV_ASSIGN_OR_RETURN(PkeyPtr pkey, ParsePkcs8(material->Bytes(SecretAccess::Get())));
    return ReadyFromPkey(cls, type, std::move(pkey));
  }
  if (cls != CKO_SECRET_KEY) return Status(Reason::kKeyTypeInconsistent, "not a key object");
  CV_RETURN_IF_ERROR(CheckSecretKey(type, material->size()));
  auto key = std::make_shared<ReadyKey>();
  key->object_class = cls;
  key->key_type = type;
  key->secret = material->Clone();
  key->key_bits = material->size() * 8;
  return std::shared_ptr<const ReadyKey>(std::move(key));
}

Result<NewKey> ImportKey(const AttributeSet& tmpl) {
  CV_RETURN_IF_ERROR(selftest::ErrorStateStatus());
  CV_ASSIGN_OR_RETURN(auto ct, ClassAndType(tmpl));
  auto [cls, type] = ct;
  if (cls == CKO_SECRET_KEY) return ImportSecret(tmpl, type);
  if (cls != CKO_PUBLIC_KEY && cls != CKO_PRIVATE_KEY) return Status(Reason::kTemplateInconsistent, "not a key class");
  PkeyPtr pkey;
  if (cls == CKO_PUBLIC_KEY) {
    CV_ASSIGN_OR_RETURN(pkey, PublicFromAttrs(tmpl, type));
  } else {
    CV_ASSIGN_OR_RETURN(pkey, PrivateFromAttrs(tmpl, type));
  }
  CV_RETURN_IF_ERROR(CheckUsable(pkey.get()));
  // The PCT on every imported key pair, after the key's own validity checks
  // (which reject bad input without entering the error state).
  if (cls == CKO_PRIVATE_KEY) CV_RETURN_IF_ERROR(selftest::PairwiseConsistencyTest(pkey.get()));
  auto ec_params = tmpl.GetBytes(CKA_EC_PARAMS);
  CV_ASSIGN_OR_RETURN(AttributeSet earned,
                      EarnedAttributes(pkey.get(), cls, ec_params.value_or(std::span<const uint8_t>())));
  NewKey out;
  out.attrs = tmpl;
  for (AttributeType t : kPrivateComponents) out.attrs.Erase(t);
  MergeInto(&out.attrs, earned);
  if (cls == CKO_PRIVATE_KEY) {
    CV_ASSIGN_OR_RETURN(out.material, EncodePkcs8(pkey.get()));
  }
  return out;
}

Result<NewKey> ImportPkcs8(const SecretBytes& der) {
  CV_RETURN_IF_ERROR(selftest::ErrorStateStatus());
  CV_ASSIGN_OR_RETURN(PkeyPtr pkey, ParsePkcs8(der.Bytes(SecretAccess::Get())));
  CV_RETURN_IF_ERROR(CheckUsable(pkey.get()));
  CV_RETURN_IF_ERROR(selftest::PairwiseConsistencyTest(pkey.get()));
  NewKey out;
  CV_ASSIGN_OR_RETURN(out.attrs, EarnedAttributes(pkey.get(), CKO_PRIVATE_KEY));
  CV_ASSIGN_OR_RETURN(out.material, EncodePkcs8(pkey.get()));  // canonical re-encoding
  return out;
}

namespace {

const char* RsaComponentName(AttributeType type) {
  switch (type) {
    case CKA_PRIVATE_EXPONENT: return OSSL_PKEY_PARAM_RSA_D;
    case CKA_PRIME_1: return OSSL_PKEY_PARAM_RSA_FACTOR1;
    case CKA_PRIME_2: return OSSL_PKEY_PARAM_RSA_FACTOR2;
    case CKA_EXPONENT_1: return OSSL_PKEY_PARAM_RSA_EXPONENT1;
    case CKA_EXPONENT_2: return OSSL_PKEY_PARAM_RSA_EXPONENT2;
    case CKA_COEFFICIENT: return OSSL_PKEY_PARAM_RSA_COEFFICIENT1;
    default: return nullptr;
  }
}

Result<SecureVector> RawPrivate(EVP_PKEY* pkey) {
  size_t len = 0;
  if (EVP_PKEY_get_raw_private_key(pkey, nullptr, &len) != 1) return ossl::OpenSslError("EVP_PKEY_get_raw_private_key");
  SecureVector out(len);
  if (EVP_PKEY_get_raw_private_key(pkey, out.data(), &len) != 1) return ossl::OpenSslError("EVP_PKEY_get_raw_private_key");
  out.resize(len);
  return out;
}

}  // namespace

Result<SecureVector> PrivateComponent(const ReadyKey& key, AttributeType type) {
  if (key.object_class == CKO_SECRET_KEY && type == CKA_VALUE) {
    std::span<const uint8_t> v = key.secret.Bytes(SecretAccess::Get());
    return SecureVector(v.begin(), v.end());
  }
  if (key.object_class != CKO_PRIVATE_KEY || key.pkey == nullptr) {
    return Status(Reason::kAttributeTypeInvalid, "not a private key");
  }
  if (key.key_type == CKK_RSA) {
    const char* name = RsaComponentName(type);
    if (name == nullptr) return Status(Reason::kAttributeTypeInvalid, "not an RSA private component");
    return BnParam(key.pkey.get(), name);
  }
  if (type != CKA_VALUE) return Status(Reason::kAttributeTypeInvalid, "not a private component of this key type");
  if (key.key_type != CKK_EC) return RawPrivate(key.pkey.get());
  CV_ASSIGN_OR_RETURN(const Curve* curve, CurveOf(key.pkey.get()));
  return BnParam(key.pkey.get(), OSSL_PKEY_PARAM_PRIV_KEY, curve->field_bytes);
}

}  // namespace certvault::engine
