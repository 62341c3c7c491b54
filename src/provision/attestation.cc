// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Key attestation certificates (issue 14): like YubiKey PIV attestation or
// TPM2_Certify, the vault's identity key certifies a key's public half and
// states, in extension cvKeyAttestation, how the key came to be and that it
// never leaves the vault.
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_der.h"
#include "src/crypto/ossl_error.h"
#include "src/provision/asn1.h"
#include "src/provision/cms_util.h"

namespace certvault::provision {
namespace {

Result<Bytes> EncodeStatement(const KeyAttestation& a) {
  ossl::UniquePtr<CV_KEY_ATTESTATION> s(CV_KEY_ATTESTATION_new());
  if (s == nullptr) return ossl::OpenSslError("CV_KEY_ATTESTATION_new");
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<ASN1_INTEGER> version, internal::FromU64(1));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<ASN1_INTEGER> origin, internal::FromU64(a.origin));
  ASN1_INTEGER_free(s->version);
  s->version = version.release();  // owned by s
  ASN1_INTEGER_free(s->origin);
  s->origin = origin.release();  // owned by s
  s->never_extractable = a.never_extractable ? 0xff : 0;
  s->always_sensitive = a.always_sensitive ? 0xff : 0;
  CV_RETURN_IF_ERROR(internal::SetString(s->token_serial, AsSpan(a.token_serial)));
  CV_RETURN_IF_ERROR(internal::SetString(s->software_version, AsSpan(a.software_version)));
  return ossl::ToDer<CV_KEY_ATTESTATION, i2d_CV_KEY_ATTESTATION>(s.get(), "i2d_CV_KEY_ATTESTATION");
}

Status SetNamesAndTimes(X509* x, X509* issuer) {
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof(serial)) != 1) return ossl::OpenSslError("RAND_bytes");
  serial[0] &= 0x7f;
  ossl::UniquePtr<BIGNUM> bn(BN_bin2bn(serial, sizeof(serial), nullptr));
  ASN1_INTEGER* sn = X509_get_serialNumber(x);
  if (bn == nullptr || BN_to_ASN1_INTEGER(bn.get(), sn) == nullptr || X509_set_version(x, X509_VERSION_3) != 1 ||
      X509_set_issuer_name(x, X509_get_subject_name(issuer)) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(x), 0) == nullptr ||
      X509_set1_notAfter(x, X509_get0_notAfter(issuer)) != 1) {
    return ossl::OpenSslError("X509_set");
  }
  X509_NAME* subject = X509_get_subject_name(x);
  static const unsigned char kCn[] = "certvault attested key";
  if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, kCn, -1, -1, 0) != 1) {
    return ossl::OpenSslError("X509_NAME_add_entry_by_txt");
  }
  return OkStatus();
}

}  // namespace

Result<Bytes> BuildAttestationCert(const KeyAttestation& a, std::span<const uint8_t> spki, const CmsSigner& identity) {
  CV_ASSIGN_OR_RETURN(const Nids* nids, GetNids());
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<EVP_PKEY> key, x509::ParsePublicKeyInfo(spki));
  ossl::UniquePtr<X509> x(X509_new_ex(crypto::LibCtx(), crypto::kPropq));
  if (x == nullptr || X509_set_pubkey(x.get(), key.get()) != 1) return ossl::OpenSslError("X509_set_pubkey");
  CV_RETURN_IF_ERROR(SetNamesAndTimes(x.get(), identity.cert));
  CV_ASSIGN_OR_RETURN(Bytes statement, EncodeStatement(a));
  ossl::UniquePtr<ASN1_STRING> value(ASN1_OCTET_STRING_new());
  ossl::UniquePtr<ASN1_OBJECT> oid(OBJ_nid2obj(nids->ext_attestation) ? OBJ_dup(OBJ_nid2obj(nids->ext_attestation))
                                                                     : nullptr);
  if (value == nullptr || oid == nullptr ||
      ASN1_OCTET_STRING_set(value.get(), statement.data(), static_cast<int>(statement.size())) != 1) {
    return ossl::OpenSslError("ASN1_OCTET_STRING_set");
  }
  ossl::UniquePtr<X509_EXTENSION> ext(X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 0, value.get()));
  if (ext == nullptr || X509_add_ext(x.get(), ext.get(), -1) != 1) return ossl::OpenSslError("X509_add_ext");
  if (X509_sign(x.get(), identity.key, crypto::DigestByName("SHA256")) <= 0) return ossl::OpenSslError("X509_sign");
  return ossl::ToDer<X509, i2d_X509>(x.get(), "i2d_X509");
}

Result<KeyAttestation> ReadAttestation(X509* cert) {
  CV_ASSIGN_OR_RETURN(const Nids* nids, GetNids());
  int pos = X509_get_ext_by_NID(cert, nids->ext_attestation, -1);
  X509_EXTENSION* ext = pos >= 0 ? X509_get_ext(cert, pos) : nullptr;
  if (ext == nullptr) return Status(Reason::kDataInvalid, "no key attestation extension");
  const ASN1_STRING* v = X509_EXTENSION_get_data(ext);
  const unsigned char* p = ASN1_STRING_get0_data(v);
  ossl::UniquePtr<CV_KEY_ATTESTATION> s(d2i_CV_KEY_ATTESTATION(nullptr, &p, ASN1_STRING_length(v)));
  if (s == nullptr || p != ASN1_STRING_get0_data(v) + ASN1_STRING_length(v)) {
    ossl::ClearErrors();
    return Status(Reason::kDataInvalid, "malformed key attestation");
  }
  KeyAttestation a;
  CV_ASSIGN_OR_RETURN(a.origin, internal::ToU64(s->origin));
  a.never_extractable = s->never_extractable != 0;
  a.always_sensitive = s->always_sensitive != 0;
  a.token_serial = internal::ToString(s->token_serial);
  a.software_version = internal::ToString(s->software_version);
  return a;
}

}  // namespace certvault::provision
