// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/crypto/ossl_ptr.h"

#include <openssl/crypto.h>

namespace certvault::ossl {

void SecretParamsDeleter::operator()(OSSL_PARAM* params) const noexcept {
  if (params == nullptr) return;
  // OSSL_PARAM_clear_free exists only from OpenSSL 3.2: cleanse by hand.
  for (OSSL_PARAM* p = params; p->key != nullptr; ++p) {
    if (p->data != nullptr && p->data_size != 0) OPENSSL_cleanse(p->data, p->data_size);
  }
  OSSL_PARAM_free(params);
}

void X509StackDeleter::operator()(STACK_OF(X509) * stack) const noexcept {
  sk_X509_pop_free(stack, X509_free);
}

UniquePtr<EVP_PKEY> UpRef(EVP_PKEY* key) {
  if (key == nullptr || EVP_PKEY_up_ref(key) != 1) return nullptr;
  return UniquePtr<EVP_PKEY>(key);
}

UniquePtr<X509> UpRef(X509* cert) {
  if (cert == nullptr || X509_up_ref(cert) != 1) return nullptr;
  return UniquePtr<X509>(cert);
}

}  // namespace certvault::ossl
