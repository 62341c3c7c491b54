// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// ToDer: the DER encoding of an OpenSSL object through its i2d function,
// e.g. ossl::ToDer<X509_CRL, i2d_X509_CRL>(crl, "i2d_X509_CRL").
#ifndef CERTVAULT_CRYPTO_OSSL_DER_H_
#define CERTVAULT_CRYPTO_OSSL_DER_H_

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/crypto/ossl_error.h"

namespace certvault::ossl {

template <typename T, int (*I2d)(const T*, unsigned char**)>
Result<Bytes> ToDer(const T* obj, const char* fn) {
  int len = I2d(obj, nullptr);
  if (len <= 0) return OpenSslError(fn);
  Bytes out(static_cast<size_t>(len));
  uint8_t* p = out.data();
  if (I2d(obj, &p) != len) return OpenSslError(fn);
  return out;
}

}  // namespace certvault::ossl

#endif  // CERTVAULT_CRYPTO_OSSL_DER_H_
