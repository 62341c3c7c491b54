// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/core/vault_objects.h"

#include <openssl/x509.h>

#include "src/base/byte_reader.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_der.h"
#include "src/crypto/ossl_error.h"
#include "src/model/vendor_attributes.h"

namespace certvault::core::vault {
namespace {

// DER OID of prime256v1 (RFC 5480 §2.1.1.1), the CKA_EC_PARAMS of P-256.
constexpr uint8_t kP256Params[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
constexpr char kStateMagic[] = "CVP1";

void Lock(AttributeSet* a) {
  a->SetBool(CKA_TOKEN, true);
  a->SetBool(CKA_MODIFIABLE, false);
  a->SetBool(CKA_COPYABLE, false);
  a->SetBool(CKA_DESTROYABLE, false);
}

}  // namespace

uint64_t RoleClass(uint64_t role) {
  switch (role) {
    case kCvRoleIdentityKey:
    case kCvRoleTransportKey: return CKO_PRIVATE_KEY;
    case kCvRoleIdentityPublic:
    case kCvRoleTransportPublic: return CKO_PUBLIC_KEY;
    case kCvRoleIdentityCert:
    case kCvRoleTransportCert:
    case kCvRoleAuthority: return CKO_CERTIFICATE;
    default: return CKO_DATA;
  }
}

const char* RoleLabel(uint64_t role) {
  switch (role) {
    case kCvRoleIdentityKey:
    case kCvRoleIdentityPublic:
    case kCvRoleIdentityCert: return kIdentityLabel;
    case kCvRoleTransportKey:
    case kCvRoleTransportPublic:
    case kCvRoleTransportCert: return kTransportLabel;
    case kCvRoleAuthority: return kAuthorityLabel;
    default: return kStateLabel;
  }
}

void KeyTemplates(bool identity, AttributeSet* out_public, AttributeSet* out_private) {
  const char* label = identity ? kIdentityLabel : kTransportLabel;
  AttributeSet pub;
  Lock(&pub);
  pub.SetBool(CKA_PRIVATE, false);
  pub.SetString(CKA_LABEL, label);
  pub.SetString(CKA_ID, label);
  pub.Set(CKA_EC_PARAMS, kP256Params);
  for (AttributeType t : {CKA_VERIFY, CKA_ENCRYPT, CKA_WRAP, CKA_DERIVE}) pub.SetBool(t, false);
  AttributeSet priv;
  Lock(&priv);
  priv.SetBool(CKA_PRIVATE, true);
  priv.SetBool(CKA_SENSITIVE, true);
  priv.SetBool(CKA_EXTRACTABLE, false);
  priv.SetString(CKA_LABEL, label);
  priv.SetString(CKA_ID, label);
  for (AttributeType t : {CKA_SIGN, CKA_SIGN_RECOVER, CKA_DECRYPT, CKA_UNWRAP, CKA_DERIVE}) priv.SetBool(t, false);
  *out_public = std::move(pub);
  *out_private = std::move(priv);
}

Result<AttributeSet> CertificateTemplate(std::span<const uint8_t> der, std::string_view label, const Bytes& id,
                                         bool locked) {
  const unsigned char* p = der.data();
  ossl::UniquePtr<X509> cert(crypto::D2iX509(&p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  if (cert == nullptr || p != der.data() + der.size()) {
    ossl::ClearErrors();
    return Status(Reason::kDataInvalid, "not one DER certificate");
  }
  CV_ASSIGN_OR_RETURN(Bytes subject, (ossl::ToDer<X509_NAME, i2d_X509_NAME>(X509_get_subject_name(cert.get()), "i2d")));
  CV_ASSIGN_OR_RETURN(Bytes issuer, (ossl::ToDer<X509_NAME, i2d_X509_NAME>(X509_get_issuer_name(cert.get()), "i2d")));
  CV_ASSIGN_OR_RETURN(Bytes serial,
                      (ossl::ToDer<ASN1_INTEGER, i2d_ASN1_INTEGER>(X509_get0_serialNumber(cert.get()), "i2d")));
  AttributeSet t;
  if (locked) Lock(&t);
  t.SetUlong(CKA_CLASS, CKO_CERTIFICATE);
  t.SetUlong(CKA_CERTIFICATE_TYPE, CKC_X_509);
  t.SetBool(CKA_TOKEN, true);
  t.SetBool(CKA_PRIVATE, false);
  t.SetString(CKA_LABEL, label);
  t.Set(CKA_ID, id);
  t.Set(CKA_SUBJECT, subject);
  t.Set(CKA_ISSUER, issuer);
  t.Set(CKA_SERIAL_NUMBER, serial);
  t.Set(CKA_VALUE, der);
  return t;
}

Bytes EncodeState(const State& state) {
  Bytes out(kStateMagic, kStateMagic + 4);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(state.counter >> shift));
  out.push_back(static_cast<uint8_t>(state.nonces.size()));
  for (const Bytes& n : state.nonces) {
    out.push_back(static_cast<uint8_t>(n.size()));
    out.insert(out.end(), n.begin(), n.end());
  }
  return out;
}

Result<State> DecodeState(std::span<const uint8_t> value) {
  ByteReader in(value);
  std::span<const uint8_t> magic;
  State s;
  uint8_t n = 0;
  if (!in.ReadBytes(4, &magic) || !std::equal(magic.begin(), magic.end(), kStateMagic) || !in.ReadU64(&s.counter) ||
      !in.ReadU8(&n) || n > kMaxNonces) {
    return Status(Reason::kDeviceError, "corrupt provisioning state");
  }
  for (uint8_t i = 0; i < n; ++i) {
    uint8_t len = 0;
    std::span<const uint8_t> nonce;
    if (!in.ReadU8(&len) || !in.ReadBytes(len, &nonce)) return Status(Reason::kDeviceError, "corrupt provisioning state");
    s.nonces.emplace_back(nonce.begin(), nonce.end());
  }
  if (!in.empty()) return Status(Reason::kDeviceError, "corrupt provisioning state");
  return s;
}

AttributeSet StateTemplate(const State& state) {
  AttributeSet t;
  Lock(&t);
  t.SetUlong(CKA_CLASS, CKO_DATA);
  t.SetBool(CKA_PRIVATE, true);
  t.SetString(CKA_LABEL, kStateLabel);
  t.SetString(CKA_APPLICATION, "certvault");
  t.Set(CKA_VALUE, EncodeState(state));
  return t;
}

}  // namespace certvault::core::vault
