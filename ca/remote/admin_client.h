// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// AdminClient: the remote side of `certvault-ca --server URL --identity URI`
// (docs/design/roles.md, "Remote administration"). The operator's key stays
// in their token: it is opened by STORE through certvault's OpenSSL provider
// in a library context of this client (embedded vault, or certvaultd with a
// socket), or, with --module, in any PKCS#11 module through the built-in
// cv-p11 provider (ca/p11/p11_pkey.h), and libssl signs the TLS 1.3
// handshake through it. The server is
// authenticated against a trust anchor file with a host (or IP) check. One
// HTTP/1.1 request per connection (Connection: close); answers above 16 MiB
// are refused.
// Thread-compatible: one request at a time.
#ifndef CERTVAULT_CA_REMOTE_ADMIN_CLIENT_H_
#define CERTVAULT_CA_REMOTE_ADMIN_CLIENT_H_

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>

#include "ca/p11/p11_pkey.h"
#include "src/base/result.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::ca {

struct RemoteOptions {
  std::string server;           // https://HOST[:PORT]
  std::string identity;         // pkcs11:token=..;object=.. (or certvault:...), no query part
  std::string identity_cert;    // PEM file; "" = the certificate of the same label in the token
  std::string trust;            // PEM anchor(s) for the server (the CA's root.pem)
  std::string pin_file;         // the operator token's PIN (mode 0600; the provider reads it)
  std::string vault;            // the operator's vault directory ("" = CERTVAULT_HOME)
  std::string socket;           // certvaultd's socket instead of an embedded vault
  std::string provider_module;  // certvault.so ("" = the installed one)
  std::string module;           // another PKCS#11 module holding the key ("" = certvault's provider)
};

struct RemoteAnswer {
  int status = 0;
  std::string body;
};

class AdminClient {
 public:
  // Create: loads the provider, the key and its certificate, and the
  // anchors. kInvalidArgument for a bad URL or URI; kFailedPrecondition
  // naming what cannot be loaded.
  static Result<std::unique_ptr<AdminClient>> Create(const RemoteOptions& options);
  ~AdminClient();
  // Request: `method` `path` (under /admin/v1/) with `body`. kUnavailable
  // when the server cannot be reached or the handshake fails.
  Result<RemoteAnswer> Request(std::string_view method, std::string_view path, std::string_view body);

 private:
  AdminClient() = default;
  Status LoadProvider(const RemoteOptions& options);
  // LoadP11Identity: --module: the key (and, without --identity-cert, the
  // token's certificate of the same label) through cv-p11.
  Status LoadP11Identity(const RemoteOptions& options);
  Status LoadIdentity(const RemoteOptions& options);
  Status LoadStoreIdentity(const RemoteOptions& options);
  Status MakeContext(const RemoteOptions& options);

  std::string host_, port_;
  OSSL_LIB_CTX* Ctx() const { return p11_ != nullptr ? p11_->get() : libctx_.get(); }

  ossl::UniquePtr<OSSL_LIB_CTX> libctx_;  // first: freed after what was made in it
  std::unique_ptr<P11Context> p11_;       // with --module, instead of libctx_
  ossl::UniquePtr<EVP_PKEY> key_;
  ossl::UniquePtr<X509> cert_;
  SSL_CTX* ctx_ = nullptr;
};

// ParseServerUrl: https://HOST[:PORT][/] -> host, port (default 443).
Status ParseServerUrl(std::string_view url, std::string& out_host, std::string& out_port);
// IdentityStoreUri: "pkcs11:..." or "certvault:..." as the provider's
// "certvault:" STORE URI; kInvalidArgument for another scheme or a query
// part (a PIN belongs in --pin-file, never in a command line).
Result<std::string> IdentityStoreUri(std::string_view identity);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_REMOTE_ADMIN_CLIENT_H_
