// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The device CSRs of the enrollment load clients (est_load.cc, cmp_load.cc).
#ifndef CERTVAULT_BENCH_EST_DEVICE_CSR_H_
#define CERTVAULT_BENCH_EST_DEVICE_CSR_H_

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <string>

namespace certvault::bench {

// MakeDeviceCsr: a SHA-256-signed CSR for CN=<prefix><n>.devices.example.com
// with that DNS SAN; its key is `fixed` if given, else a new P-256 key. The
// caller frees the result.
inline X509_REQ* MakeDeviceCsr(const std::string& prefix, int n, EVP_PKEY* fixed) {
  EVP_PKEY* key = fixed;
  if (key == nullptr)
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  else
    EVP_PKEY_up_ref(key);
  X509_REQ* req = X509_REQ_new();
  std::string cn = prefix + std::to_string(n) + ".devices.example.com";
  X509_NAME* name = X509_REQ_get_subject_name(req);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_REQ_set_pubkey(req, key);
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  std::string san = "DNS:" + cn;
  sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str()));
  X509_REQ_add_extensions(req, exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_sign(req, key, EVP_sha256());
  EVP_PKEY_free(key);
  return req;
}

}  // namespace certvault::bench

#endif  // CERTVAULT_BENCH_EST_DEVICE_CSR_H_
