// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "cli/keys.h"

#include <openssl/sha.h>

#include <climits>
#include <cstring>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"

namespace certvault::cli {
namespace {

// DER-encoded OIDs for CKA_EC_PARAMS (PKCS#11 v3.0 §2.3.3: "DER-encoding of
// an ANSI X9.62 Parameters value", namedCurve choice; §2.3.5 for EdDSA).
const Bytes kP256 = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
const Bytes kP384 = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
const Bytes kP521 = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};
const Bytes kEd25519 = {0x06, 0x03, 0x2b, 0x65, 0x70};
const Bytes kEd448 = {0x06, 0x03, 0x2b, 0x65, 0x71};

Result<Bytes> Sha1(std::span<const uint8_t> data) {
  Bytes out(SHA_DIGEST_LENGTH);
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, crypto::DigestByNid(NID_sha1), nullptr) != 1) {
    return ossl::OpenSslError("EVP_Digest");
  }
  return out;
}

Result<SecureVector> BnParam(EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) return ossl::OpenSslError("EVP_PKEY_get_bn_param");
  ossl::UniquePtr<BIGNUM> bn(raw);  // owns the copy get_bn_param made
  SecureVector out(static_cast<size_t>(BN_num_bytes(bn.get())));
  if (BN_bn2bin(bn.get(), out.data()) != static_cast<int>(out.size())) return ossl::OpenSslError("BN_bn2bin");
  return out;
}

Result<Bytes> EcParamsOf(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519")) return kEd25519;
  if (EVP_PKEY_is_a(key, "ED448")) return kEd448;
  char group[64] = {0};
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), nullptr) != 1) {
    return ossl::OpenSslError("EVP_PKEY_get_utf8_string_param");
  }
  std::string_view name = group;
  if (name == "prime256v1" || name == "P-256") return kP256;
  if (name == "secp384r1" || name == "P-384") return kP384;
  if (name == "secp521r1" || name == "P-521") return kP521;
  return Status(Reason::kCurveNotSupported, "curve " + std::string(name) + " is not supported");
}

bool IsEdwards(const EVP_PKEY* key) { return EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448"); }

// PublicValue: the encoded EC point, or the raw EdDSA public key.
Result<Bytes> PublicValue(EVP_PKEY* key) {
  if (IsEdwards(key)) {
    size_t len = 0;
    if (EVP_PKEY_get_raw_public_key(key, nullptr, &len) != 1) return ossl::OpenSslError("EVP_PKEY_get_raw_public_key");
    Bytes out(len);
    if (EVP_PKEY_get_raw_public_key(key, out.data(), &len) != 1) return ossl::OpenSslError("EVP_PKEY_get_raw_public_key");
    return out;
  }
  uint8_t* raw = nullptr;
  size_t len = EVP_PKEY_get1_encoded_public_key(key, &raw);
  if (len == 0 || raw == nullptr) return ossl::OpenSslError("EVP_PKEY_get1_encoded_public_key");
  Bytes out(raw, raw + len);
  OPENSSL_free(raw);
  return out;
}

// EcPoint: CKA_EC_POINT is the DER OCTET STRING of the encoded point (or of
// the raw EdDSA public key).
Result<Bytes> EcPointOf(EVP_PKEY* key) {
  CV_ASSIGN_OR_RETURN(Bytes raw, PublicValue(key));
  if (raw.size() > INT_MAX) return InvalidArgumentError("public key too large");
  ossl::UniquePtr<ASN1_STRING> octets(ASN1_OCTET_STRING_new());
  if (octets == nullptr || ASN1_OCTET_STRING_set(octets.get(), raw.data(), static_cast<int>(raw.size())) != 1) return ossl::OpenSslError("ASN1_OCTET_STRING_set");
  int der_len = i2d_ASN1_OCTET_STRING(octets.get(), nullptr);
  if (der_len <= 0) return ossl::OpenSslError("i2d_ASN1_OCTET_STRING");
  Bytes out(static_cast<size_t>(der_len));
  uint8_t* p = out.data();
  if (i2d_ASN1_OCTET_STRING(octets.get(), &p) != der_len) return ossl::OpenSslError("i2d_ASN1_OCTET_STRING");
  return out;
}

Status AddRsaComponents(EVP_PKEY* key, KeyTemplates* t) {
  static constexpr std::pair<AttributeType, const char*> kPrivate[] = {
      {CKA_MODULUS, OSSL_PKEY_PARAM_RSA_N},           {CKA_PUBLIC_EXPONENT, OSSL_PKEY_PARAM_RSA_E},
      {CKA_PRIVATE_EXPONENT, OSSL_PKEY_PARAM_RSA_D},  {CKA_PRIME_1, OSSL_PKEY_PARAM_RSA_FACTOR1},
      {CKA_PRIME_2, OSSL_PKEY_PARAM_RSA_FACTOR2},     {CKA_EXPONENT_1, OSSL_PKEY_PARAM_RSA_EXPONENT1},
      {CKA_EXPONENT_2, OSSL_PKEY_PARAM_RSA_EXPONENT2}, {CKA_COEFFICIENT, OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
  };
  for (const auto& [type, name] : kPrivate) {
    CV_ASSIGN_OR_RETURN(SecureVector value, BnParam(key, name));
    t->private_tmpl.Set(type, value);
    if (type == CKA_MODULUS || type == CKA_PUBLIC_EXPONENT) t->public_tmpl.Set(type, value);
  }
  t->private_tmpl.SetUlong(CKA_KEY_TYPE, CKK_RSA);
  t->public_tmpl.SetUlong(CKA_KEY_TYPE, CKK_RSA);
  return OkStatus();
}

Status AddEcComponents(EVP_PKEY* key, KeyTemplates* t) {
  CV_ASSIGN_OR_RETURN(Bytes params, EcParamsOf(key));
  CV_ASSIGN_OR_RETURN(Bytes point, EcPointOf(key));
  bool edwards = IsEdwards(key);
  SecureVector value;
  if (edwards) {
    size_t len = 0;
    if (EVP_PKEY_get_raw_private_key(key, nullptr, &len) != 1) return ossl::OpenSslError("EVP_PKEY_get_raw_private_key");
    value.resize(len);
    if (EVP_PKEY_get_raw_private_key(key, value.data(), &len) != 1) return ossl::OpenSslError("EVP_PKEY_get_raw_private_key");
  } else {
    CV_ASSIGN_OR_RETURN(value, BnParam(key, OSSL_PKEY_PARAM_PRIV_KEY));
  }
  KeyType kt = edwards ? CKK_EC_EDWARDS : CKK_EC;
  t->private_tmpl.SetUlong(CKA_KEY_TYPE, kt);
  t->private_tmpl.Set(CKA_EC_PARAMS, params);
  t->private_tmpl.Set(CKA_VALUE, value);
  t->public_tmpl.SetUlong(CKA_KEY_TYPE, kt);
  t->public_tmpl.Set(CKA_EC_PARAMS, params);
  t->public_tmpl.Set(CKA_EC_POINT, point);
  return OkStatus();
}

Result<Bytes> SignWithFallback(Session* session, ObjectHandle key, MechanismType mech, const char* md,
                               std::span<const uint8_t> tbs) {
  Result<Bytes> sig = session->Sign(Mechanism{mech, {}}, key, tbs);
  if (sig.ok() || sig.status().reason() != Reason::kMechanismInvalid) return sig;
  // The vault lacks CKM_ECDSA_SHA*: hash here, sign the digest with CKM_ECDSA.
  Bytes digest(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  ossl::UniquePtr<EVP_MD> evp_md(EVP_MD_fetch(crypto::LibCtx(), md, crypto::kPropq));
  if (evp_md == nullptr || EVP_Digest(tbs.data(), tbs.size(), digest.data(), &len, evp_md.get(), nullptr) != 1) {
    return ossl::OpenSslError("EVP_Digest");
  }
  digest.resize(len);
  return session->Sign(Mechanism{CKM_ECDSA, {}}, key, digest);
}

}  // namespace

Result<KeyGenSpec> ParseKeyType(std::string_view type) {
  KeyGenSpec s;
  if (type.starts_with("rsa:")) {
    s.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
    s.key_type = CKK_RSA;
    if (type == "rsa:2048") s.modulus_bits = 2048;
    if (type == "rsa:3072") s.modulus_bits = 3072;
    if (type == "rsa:4096") s.modulus_bits = 4096;
    if (s.modulus_bits != 0) return s;
  } else if (type.starts_with("ec:")) {
    s.mechanism = CKM_EC_KEY_PAIR_GEN;
    s.key_type = CKK_EC;
    if (type == "ec:p256") s.ec_params = kP256;
    if (type == "ec:p384") s.ec_params = kP384;
    if (type == "ec:p521") s.ec_params = kP521;
    if (!s.ec_params.empty()) return s;
  } else if (type == "ed25519" || type == "ed448") {
    s.mechanism = CKM_EC_EDWARDS_KEY_PAIR_GEN;
    s.key_type = CKK_EC_EDWARDS;
    s.ec_params = type == "ed25519" ? kEd25519 : kEd448;
    return s;
  }
  return InvalidArgumentError("unknown key type '" + std::string(type) +
                              "'; use rsa:2048|rsa:3072|rsa:4096|ec:p256|ec:p384|ec:p521|ed25519|ed448");
}

KeyTemplates KeyGenTemplates(const KeyGenSpec& spec, std::string_view label, const std::optional<Bytes>& id) {
  KeyTemplates t;
  for (AttributeSet* tmpl : {&t.public_tmpl, &t.private_tmpl}) {
    tmpl->SetBool(CKA_TOKEN, true);
    tmpl->SetString(CKA_LABEL, label);
    if (id.has_value()) tmpl->Set(CKA_ID, *id);
  }
  t.public_tmpl.SetBool(CKA_VERIFY, true);
  if (spec.modulus_bits != 0) {
    t.public_tmpl.SetUlong(CKA_MODULUS_BITS, spec.modulus_bits);
    const uint8_t f4[] = {0x01, 0x00, 0x01};
    t.public_tmpl.Set(CKA_PUBLIC_EXPONENT, f4);
  } else {
    t.public_tmpl.Set(CKA_EC_PARAMS, spec.ec_params);
  }
  t.private_tmpl.SetBool(CKA_PRIVATE, true);
  t.private_tmpl.SetBool(CKA_SENSITIVE, true);
  t.private_tmpl.SetBool(CKA_EXTRACTABLE, false);
  t.private_tmpl.SetBool(CKA_SIGN, true);
  return t;
}

Result<Bytes> KeyIdFromSpki(std::span<const uint8_t> spki) {
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<EVP_PKEY> key, x509::ParsePublicKeyInfo(spki));
  if (EVP_PKEY_is_a(key.get(), "RSA")) {
    CV_ASSIGN_OR_RETURN(SecureVector n, BnParam(key.get(), OSSL_PKEY_PARAM_RSA_N));
    return Sha1(n);
  }
  CV_ASSIGN_OR_RETURN(Bytes value, PublicValue(key.get()));
  return Sha1(value);
}

Result<Bytes> PublicKeyInfo(Session& session, const ObjectInfo& key) {
  CV_ASSIGN_OR_RETURN(std::optional<Bytes> spki, session.Attribute(key.handle, CKA_PUBLIC_KEY_INFO));
  if (spki.has_value() && !spki->empty()) return *spki;
  if (!key.id.empty()) {
    AttributeSet tmpl;
    tmpl.SetUlong(CKA_CLASS, CKO_PUBLIC_KEY);
    tmpl.Set(CKA_ID, key.id);
    CV_ASSIGN_OR_RETURN(std::vector<ObjectHandle> pubs, session.Find(tmpl));
    for (ObjectHandle pub : pubs) {
      CV_ASSIGN_OR_RETURN(std::optional<Bytes> p, session.Attribute(pub, CKA_PUBLIC_KEY_INFO));
      if (p.has_value() && !p->empty()) return *p;
    }
  }
  return NotFoundError("the key '" + key.label + "' has no public key info (CKA_PUBLIC_KEY_INFO)");
}

x509::Signer VaultSigner(Session* session, ObjectHandle key, x509::SignatureAlgorithm alg) {
  return [session, key, alg](std::span<const uint8_t> tbs) -> Result<Bytes> {
    switch (alg) {
      case x509::SignatureAlgorithm::kEcdsaSha256: return SignWithFallback(session, key, CKM_ECDSA_SHA256, "SHA256", tbs);
      case x509::SignatureAlgorithm::kEcdsaSha384: return SignWithFallback(session, key, CKM_ECDSA_SHA384, "SHA384", tbs);
      case x509::SignatureAlgorithm::kEcdsaSha512: return SignWithFallback(session, key, CKM_ECDSA_SHA512, "SHA512", tbs);
      case x509::SignatureAlgorithm::kRsaPkcs1Sha256: return session->Sign(Mechanism{CKM_SHA256_RSA_PKCS, {}}, key, tbs);
      case x509::SignatureAlgorithm::kEd25519:
      case x509::SignatureAlgorithm::kEd448: return session->Sign(Mechanism{CKM_EDDSA, {}}, key, tbs);
      default: return Status(Reason::kMechanismInvalid, "unsupported signature algorithm");
    }
  };
}

Result<KeyTemplates> ImportTemplates(EVP_PKEY* key, std::string_view label, const Bytes& id) {
  KeyTemplates t;
  if (EVP_PKEY_is_a(key, "RSA")) {
    CV_RETURN_IF_ERROR(AddRsaComponents(key, &t));
  } else if (EVP_PKEY_is_a(key, "EC") || EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")) {
    CV_RETURN_IF_ERROR(AddEcComponents(key, &t));
  } else {
    return Status(Reason::kKeyTypeInconsistent, "the PKCS#12 key type is not supported (RSA, EC, Ed25519, Ed448 are)");
  }
  t.private_tmpl.SetUlong(CKA_CLASS, CKO_PRIVATE_KEY);
  t.public_tmpl.SetUlong(CKA_CLASS, CKO_PUBLIC_KEY);
  for (AttributeSet* tmpl : {&t.public_tmpl, &t.private_tmpl}) {
    tmpl->SetBool(CKA_TOKEN, true);
    tmpl->SetString(CKA_LABEL, label);
    tmpl->Set(CKA_ID, id);
  }
  t.public_tmpl.SetBool(CKA_VERIFY, true);
  t.private_tmpl.SetBool(CKA_PRIVATE, true);
  t.private_tmpl.SetBool(CKA_SENSITIVE, true);
  t.private_tmpl.SetBool(CKA_EXTRACTABLE, false);
  t.private_tmpl.SetBool(CKA_SIGN, true);
  return t;
}

}  // namespace certvault::cli
