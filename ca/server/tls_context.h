// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// ServerTls: the SSL_CTX of `certvault-ca serve`. It lives in a library
// context of its own (never OpenSSL's default one) into which certvault's
// OpenSSL provider is loaded beside the default provider; the TLS server
// key is loaded by STORE from the CA's token with a certvault: URI, so it
// stays in the token and every handshake signature is made there. The
// SSL_CTX is made with SSL_CTX_new_ex in that context.
//   - protocol: TLS 1.3 only, or 1.2 and 1.3 (tls_min_version = "1.2");
//   - server certificate chain: tls_cert (server.pem: leaf + issuing CA);
//   - client certificates are requested, not required; they are verified
//     against this CA's chain and the configured client_anchors. A failed
//     verification does not fail the handshake: the result is kept for the
//     request (which then gets an EST 403, RFC 7030 §3.3.2).
#ifndef CERTVAULT_CA_SERVER_TLS_CONTEXT_H_
#define CERTVAULT_CA_SERVER_TLS_CONTEXT_H_

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "ca/config/ca_config.h"
#include "ca/server/server_config.h"
#include "src/base/result.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::ca {

class ServerTls {
 public:
  // Create: kFailedPrecondition with the fix in the message when the
  // provider, the key or the certificate cannot be loaded.
  static Result<std::unique_ptr<ServerTls>> Create(const CaConfig& ca, const ServerConfig& server);
  ~ServerTls();
  SSL_CTX* ctx() const { return ctx_; }
  // libctx, key: the library context (with certvault's provider) and the
  // server key in the token; CMP signs its responses with them.
  OSSL_LIB_CTX* libctx() const { return libctx_.get(); }
  EVP_PKEY* key() const { return key_.get(); }

 private:
  ServerTls() = default;
  Status LoadProvider(const CaConfig& ca, const ServerConfig& server);
  Status LoadKey(const CaConfig& ca, const ServerConfig& server);
  Status LoadAnchors(const CaConfig& ca, const ServerConfig& server);

  ossl::UniquePtr<OSSL_LIB_CTX> libctx_;
  SSL_CTX* ctx_ = nullptr;
  ossl::UniquePtr<EVP_PKEY> key_;
};

// DefaultProviderModule: where certvault.so is installed (build-time path).
std::string DefaultProviderModule();

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_SERVER_TLS_CONTEXT_H_
