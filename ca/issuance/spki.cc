// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/issuance/spki.h"

#include <openssl/core_names.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "ca/der/der_reader.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"

namespace certvault::ca {
namespace {

// SEQUENCE { SEQUENCE { id-ecPublicKey, namedCurve }, BIT STRING 0x00 04||X||Y }
constexpr std::array<uint8_t, 27> kP256Prefix = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                                 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                                 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};
constexpr std::array<uint8_t, 24> kP384Prefix = {0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86,
                                                 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
                                                 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00, 0x04};

template <size_t N>
bool HasPrefix(std::span<const uint8_t> spki, const std::array<uint8_t, N>& prefix, size_t point_len) {
  return spki.size() == N - 1 + point_len && std::memcmp(spki.data(), prefix.data(), N) == 0;
}

// GroupTemplate: a parameters-only key of `group`, one per thread. Building
// the EC_GROUP is the expensive part of importing a public key (~15 us for
// P-256); duplicating a key that already has it is not.
Result<EVP_PKEY*> GroupTemplate(const char* group, ossl::UniquePtr<EVP_PKEY>& slot) {
  if (slot != nullptr) return slot.get();
  OSSL_PARAM params[2] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(group), 0),
                          OSSL_PARAM_construct_end()};
  ossl::UniquePtr<EVP_PKEY_CTX> ctx(crypto::NewPkeyCtx("EC"));
  EVP_PKEY* raw = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEY_PARAMETERS, params) != 1) {
    return ossl::OpenSslError("EVP_PKEY_fromdata");
  }
  slot.reset(raw);
  return raw;
}

Result<ossl::UniquePtr<EVP_PKEY>> EcFromPoint(const char* group, std::span<const uint8_t> point) {
  thread_local ossl::UniquePtr<EVP_PKEY> p256, p384;
  CV_ASSIGN_OR_RETURN(EVP_PKEY * tmpl, GroupTemplate(group, std::strcmp(group, "P-256") == 0 ? p256 : p384));
  ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_dup(tmpl));
  if (key == nullptr) return ossl::OpenSslError("EVP_PKEY_dup");
  // EC_POINT_oct2point rejects a point that is not on the curve.
  if (EVP_PKEY_set1_encoded_public_key(key.get(), point.data(), point.size()) != 1) {
    ossl::ClearErrors();
    return InvalidArgumentError("CSR public key is not a valid EC point");
  }
  return key;
}

// CheckNamedCurve: RFC 5480 §2.1.1: "implicitCurve and specifiedCurve MUST
// NOT be used": an id-ecPublicKey SPKI's parameters must be a namedCurve OID.
Status CheckNamedCurve(std::span<const uint8_t> spki) {
  static constexpr uint8_t kEcPublicKey[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
  der::DerReader outer(spki);
  std::span<const uint8_t> body, alg, oid;
  if (!outer.Expect(0x30, &body)) return InvalidArgumentError("malformed SubjectPublicKeyInfo");
  der::DerReader in(body);
  if (!in.Expect(0x30, &alg)) return InvalidArgumentError("malformed SubjectPublicKeyInfo");
  der::DerReader a(alg);
  if (!a.Expect(0x06, &oid)) return InvalidArgumentError("malformed SubjectPublicKeyInfo");
  if (!std::equal(oid.begin(), oid.end(), std::begin(kEcPublicKey), std::end(kEcPublicKey))) return OkStatus();
  if (a.PeekTag() != 0x06) {
    return InvalidArgumentError("CSR EC public key has explicit curve parameters; only named curves are accepted "
                                "(RFC 5480 2.1.1)");
  }
  return OkStatus();
}

}  // namespace

Result<ossl::UniquePtr<EVP_PKEY>> PublicKeyFromSpki(std::span<const uint8_t> spki) {
  if (HasPrefix(spki, kP256Prefix, 65)) return EcFromPoint("P-256", spki.subspan(kP256Prefix.size() - 1));
  if (HasPrefix(spki, kP384Prefix, 97)) return EcFromPoint("P-384", spki.subspan(kP384Prefix.size() - 1));
  CV_RETURN_IF_ERROR(CheckNamedCurve(spki));
  const uint8_t* p = spki.data();
  ossl::UniquePtr<EVP_PKEY> key(crypto::D2iPubkey(&p, static_cast<long>(spki.size())));  // NOLINT(runtime/int)
  if (key == nullptr || p != spki.data() + spki.size()) {
    ossl::ClearErrors();
    return InvalidArgumentError("CSR public key is malformed or of an unknown type");
  }
  return key;
}

Status SetCertPublicKey(X509* cert, std::span<const uint8_t> spki) {
  der::DerReader outer(spki);
  std::span<const uint8_t> body, alg_whole, bits;
  if (!outer.Expect(0x30, &body) || !outer.empty()) return InvalidArgumentError("malformed SubjectPublicKeyInfo");
  der::DerReader in(body);
  if (!in.Expect(0x30, nullptr, &alg_whole) || !in.Expect(0x03, &bits) || !in.empty() || bits.empty() ||
      bits[0] != 0) {
    return InvalidArgumentError("malformed SubjectPublicKeyInfo");
  }
  const uint8_t* p = alg_whole.data();
  ossl::UniquePtr<X509_ALGOR> alg(d2i_X509_ALGOR(nullptr, &p, static_cast<long>(alg_whole.size())));  // NOLINT
  if (alg == nullptr) return ossl::OpenSslError("d2i_X509_ALGOR", Reason::kDataInvalid);
  const ASN1_OBJECT* obj = nullptr;
  int ptype = V_ASN1_UNDEF;
  const void* pval = nullptr;
  X509_ALGOR_get0(&obj, &ptype, &pval, alg.get());
  void* param = nullptr;
  if (ptype == V_ASN1_OBJECT) {
    param = OBJ_dup(static_cast<const ASN1_OBJECT*>(pval));
  } else if (ptype == V_ASN1_SEQUENCE) {
    param = ASN1_STRING_dup(static_cast<const ASN1_STRING*>(pval));
  } else if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF) {
    return InvalidArgumentError("unsupported SubjectPublicKeyInfo parameters");
  }
  size_t key_len = bits.size() - 1;
  auto* key = static_cast<unsigned char*>(OPENSSL_memdup(bits.data() + 1, key_len));
  ASN1_OBJECT* oid = OBJ_dup(obj);
  if (key == nullptr || oid == nullptr ||
      X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(cert), oid, ptype, param, key, static_cast<int>(key_len)) != 1) {
    OPENSSL_free(key);
    ASN1_OBJECT_free(oid);
    if (ptype == V_ASN1_OBJECT) ASN1_OBJECT_free(static_cast<ASN1_OBJECT*>(param));
    if (ptype == V_ASN1_SEQUENCE) ASN1_STRING_free(static_cast<ASN1_STRING*>(param));
    return ossl::OpenSslError("X509_PUBKEY_set0_param");
  }
  return OkStatus();  // oid, param and key are owned by the certificate now
}

}  // namespace certvault::ca
