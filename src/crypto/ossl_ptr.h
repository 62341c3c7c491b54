// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// ossl::UniquePtr<T>: owning handles for OpenSSL objects, one deleter per type
// (BoringSSL base.h). `*_free` is called only in these deleters. Every
// `.release()` into an OpenSSL set0/assign call carries a comment naming the
// new owner.
#ifndef CERTVAULT_CRYPTO_OSSL_PTR_H_
#define CERTVAULT_CRYPTO_OSSL_PTR_H_

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ocsp.h>
#include <openssl/param_build.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace certvault::ossl {

template <typename T>
struct Deleter;

#define CV_OSSL_DELETER(type, free_fn)                     \
  template <>                                              \
  struct Deleter<type> {                                   \
    void operator()(type* p) const noexcept { free_fn(p); } \
  };

CV_OSSL_DELETER(EVP_PKEY, EVP_PKEY_free)
CV_OSSL_DELETER(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
CV_OSSL_DELETER(EVP_MD, EVP_MD_free)
CV_OSSL_DELETER(EVP_MD_CTX, EVP_MD_CTX_free)
CV_OSSL_DELETER(EVP_CIPHER, EVP_CIPHER_free)
CV_OSSL_DELETER(EVP_CIPHER_CTX, EVP_CIPHER_CTX_free)
CV_OSSL_DELETER(EVP_MAC, EVP_MAC_free)
CV_OSSL_DELETER(EVP_MAC_CTX, EVP_MAC_CTX_free)
CV_OSSL_DELETER(EVP_KDF, EVP_KDF_free)
CV_OSSL_DELETER(EVP_KDF_CTX, EVP_KDF_CTX_free)
CV_OSSL_DELETER(BIGNUM, BN_clear_free)  // private scalars: clear, not just free
CV_OSSL_DELETER(BN_CTX, BN_CTX_free)
CV_OSSL_DELETER(BIO, BIO_free_all)
CV_OSSL_DELETER(OSSL_PARAM_BLD, OSSL_PARAM_BLD_free)
CV_OSSL_DELETER(X509, X509_free)
CV_OSSL_DELETER(X509_REQ, X509_REQ_free)
CV_OSSL_DELETER(X509_CRL, X509_CRL_free)
CV_OSSL_DELETER(X509_NAME, X509_NAME_free)
CV_OSSL_DELETER(X509_EXTENSION, X509_EXTENSION_free)
CV_OSSL_DELETER(X509_ALGOR, X509_ALGOR_free)
CV_OSSL_DELETER(X509_STORE, X509_STORE_free)
CV_OSSL_DELETER(X509_STORE_CTX, X509_STORE_CTX_free)
CV_OSSL_DELETER(X509_PUBKEY, X509_PUBKEY_free)
CV_OSSL_DELETER(GENERAL_NAMES, GENERAL_NAMES_free)
CV_OSSL_DELETER(GENERAL_NAME, GENERAL_NAME_free)
CV_OSSL_DELETER(ASN1_OBJECT, ASN1_OBJECT_free)
// ASN1_INTEGER, ASN1_OCTET_STRING, ASN1_BIT_STRING and ASN1_TIME are all
// ASN1_STRING in OpenSSL, so one deleter serves them.
CV_OSSL_DELETER(ASN1_STRING, ASN1_STRING_free)
CV_OSSL_DELETER(ASN1_TYPE, ASN1_TYPE_free)
CV_OSSL_DELETER(ECDSA_SIG, ECDSA_SIG_free)
CV_OSSL_DELETER(PKCS12, PKCS12_free)
CV_OSSL_DELETER(PKCS8_PRIV_KEY_INFO, PKCS8_PRIV_KEY_INFO_free)
CV_OSSL_DELETER(OSSL_LIB_CTX, OSSL_LIB_CTX_free)
CV_OSSL_DELETER(EC_GROUP, EC_GROUP_free)
CV_OSSL_DELETER(EC_POINT, EC_POINT_clear_free)

// OSSL_PARAM arrays built by OSSL_PARAM_BLD_to_param; for arrays that may hold
// secrets use SecretParamsDeleter (cleanses values before freeing).
struct ParamsDeleter {
  void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};
struct SecretParamsDeleter {
  void operator()(OSSL_PARAM* p) const noexcept;
};

// STACK_OF(X509) owning all its certificates.
struct X509StackDeleter {
  void operator()(STACK_OF(X509) * p) const noexcept;
};

template <typename T>
using UniquePtr = std::unique_ptr<T, Deleter<T>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, ParamsDeleter>;
using SecretParamsPtr = std::unique_ptr<OSSL_PARAM, SecretParamsDeleter>;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;

// UpRef: a new owning reference to a shared EVP_PKEY / X509.
UniquePtr<EVP_PKEY> UpRef(EVP_PKEY* key);
UniquePtr<X509> UpRef(X509* cert);

}  // namespace certvault::ossl

#endif  // CERTVAULT_CRYPTO_OSSL_PTR_H_
