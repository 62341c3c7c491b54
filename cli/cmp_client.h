// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CMP client of the device side (RFC 9483 over HTTP, RFC 6712), built on
// OpenSSL's CMP client API (OSSL_CMP_CTX, OSSL_CMP_exec_*_ses) in the
// library context of the vault key (cli/provider_key.h), so the request's
// protection signature is made in the vault. The server's answers must be
// signed by a certificate that chains to `anchors` (DER). Over https://
// the TLS server is authenticated against the same anchors, and the client
// authenticates with the request's signing identity (its vault key through
// the provider) when there is one: mutual TLS.
#ifndef CERTVAULT_CLI_CMP_CLIENT_H_
#define CERTVAULT_CLI_CMP_CLIENT_H_

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <string>
#include <string_view>
#include <vector>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"

namespace certvault::cli {

struct CmpUrl {
  bool tls = false;  // https://
  std::string host;
  int port = 80;
  std::string path = ".well-known/cmp";  // no leading slash
};

// ParseCmpUrl: "http[s]://host[:port][/path]" (path default
// /.well-known/cmp; port 80 or 443). kInvalidArgument otherwise. Over
// https:// OpenSSL's HTTP client runs through an SSL BIO (the transfer
// callback, OSSL_CMP_CTX_set_http_cb); the CMP messages keep their own
// protection either way (RFC 6712 §4).
Result<CmpUrl> ParseCmpUrl(std::string_view url);

// ParseRevocationReason: an RFC 5280 §5.3.1 CRLReason by name
// (keyCompromise, superseded, ...) or number; kInvalidArgument otherwise.
Result<int> ParseRevocationReason(std::string_view text);

// CmpRevoke: an rr for `cert` (RFC 9483 §4.2) protected by `key` (the
// certificate's own key, in `libctx`), with `reason`. kPermissionDenied
// with the server's PKIStatusInfo text when it refuses; kUnavailable when
// it cannot be reached.
Status CmpRevoke(const CmpUrl& url, const std::vector<Bytes>& anchors, X509* cert, EVP_PKEY* key, OSSL_LIB_CTX* libctx,
                 int reason);

// CmpRequest: one enrollment. With a code: an ir (CRMF) protected by a
// password-based MAC (senderKID = code id), its POPO signed by `new_key`
// (the vault key, through the provider, in `libctx`). With `auth_cert`
// alone: a p10cr of `csr` signed by `auth_key` (in `libctx`). With
// `auth_cert` and `new_key`: a kur (RFC 9483 §4.1.3) updating `auth_cert`
// (oldCert), protected by `auth_key`, its POPO signed by `new_key` (both in
// `libctx`); subject and subjectAltNames are `auth_cert`'s. The subject and
// requested extensions of ir/p10cr come from `csr` (made in the vault).
struct CmpRequest {
  const Bytes* csr = nullptr;  // DER PKCS#10 (ir, p10cr)
  OSSL_LIB_CTX* libctx = nullptr;
  EVP_PKEY* new_key = nullptr;
  std::string code_id;
  const SecretBytes* code_secret = nullptr;
  X509* auth_cert = nullptr;
  EVP_PKEY* auth_key = nullptr;
};

// CmpEnroll: the new certificate (DER) and the CA certificates the answer
// carried (extraCerts and caPubs that are CA certificates). The caller
// checks it (key, chain to its anchors). kPermissionDenied with the
// server's PKIStatusInfo when refused.
struct CmpIssued {
  Bytes leaf;
  std::vector<Bytes> ca_certs;
};
Result<CmpIssued> CmpEnroll(const CmpUrl& url, const std::vector<Bytes>& anchors, const CmpRequest& req);

}  // namespace certvault::cli

#endif  // CERTVAULT_CLI_CMP_CLIENT_H_
