// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Test helpers: software keys and certificates for the provisioning tests.
#ifndef CERTVAULT_PROVISION_TEST_UTIL_H_
#define CERTVAULT_PROVISION_TEST_UTIL_H_

#include <openssl/x509v3.h>

#include <string>

#include "src/crypto/libctx.h"
#include "src/crypto/ossl_der.h"
#include "src/provision/provision.h"

namespace certvault::provision::testing {

inline ossl::UniquePtr<EVP_PKEY> NewP256() {
  return ossl::UniquePtr<EVP_PKEY>(EVP_PKEY_Q_keygen(crypto::LibCtx(), nullptr, "EC", "P-256"));
}

// MakeCert: a certificate for `key` named CN=`cn`, issued by (issuer_key,
// issuer) or self-signed when issuer is null; `eku_nid` != 0 adds that EKU.
inline ossl::UniquePtr<X509> MakeCert(EVP_PKEY* key, const std::string& cn, EVP_PKEY* issuer_key = nullptr,
                                      X509* issuer = nullptr, int eku_nid = 0) {
  ossl::UniquePtr<X509> x(X509_new_ex(crypto::LibCtx(), nullptr));
  X509_set_version(x.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), static_cast<long>(std::hash<std::string>{}(cn) & 0xffffff));
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 86400);
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(x.get(), key);
  if (issuer == nullptr) {
    BASIC_CONSTRAINTS* bc = BASIC_CONSTRAINTS_new();
    bc->ca = 0xff;
    X509_add1_ext_i2d(x.get(), NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT);
    BASIC_CONSTRAINTS_free(bc);
  }
  if (eku_nid != 0) {
    EXTENDED_KEY_USAGE* eku = sk_ASN1_OBJECT_new_null();
    sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(eku_nid));
    X509_add1_ext_i2d(x.get(), NID_ext_key_usage, eku, 0, X509V3_ADD_DEFAULT);
    sk_ASN1_OBJECT_free(eku);
  }
  X509_sign(x.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256());
  return x;
}

inline Bytes Spki(EVP_PKEY* key) {
  int len = i2d_PUBKEY(key, nullptr);
  Bytes out(static_cast<size_t>(len));
  uint8_t* p = out.data();
  i2d_PUBKEY(key, &p);
  return out;
}

inline SecretBytes Pkcs8(EVP_PKEY* key) {
  ossl::UniquePtr<PKCS8_PRIV_KEY_INFO> p8(EVP_PKEY2PKCS8(key));
  int len = i2d_PKCS8_PRIV_KEY_INFO(p8.get(), nullptr);
  SecretBytes out(static_cast<size_t>(len));
  uint8_t* p = out.MutableBytes(SecretAccess::Get()).data();
  i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &p);
  return out;
}

inline Bytes CertDer(X509* x) { return *ossl::ToDer<X509, i2d_X509>(x, "i2d_X509"); }

}  // namespace certvault::provision::testing

#endif  // CERTVAULT_PROVISION_TEST_UTIL_H_
