// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/server/tls_context.h"

#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>

#include "ca/instance/generations.h"
#include "src/base/status_macros.h"
#include "src/crypto/ossl_error.h"

#ifndef CV_PROVIDER_MODULE
#define CV_PROVIDER_MODULE "certvault.so"
#endif

namespace certvault::ca {
namespace {

int AcceptAndRecord(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) { return 1; }  // the result is kept: SSL_get_verify_result

// UriEscape: RFC 3986 percent-encoding of a PKCS#11 URI attribute value (RFC 7512 §2.3).
std::string UriEscape(const std::string& v) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : v) {
    if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// ConfigText: an openssl.cnf for the server's library context: the default
// provider and certvault's, with the CA token's PIN source (never the PIN).
std::string ConfigText(const CaConfig& ca, const ServerConfig& server) {
  std::string module = server.provider_module.empty() ? DefaultProviderModule() : server.provider_module;
  std::string text =
      "openssl_conf = cv_init\n[cv_init]\nproviders = cv_providers\n[cv_providers]\ndefault = cv_default\n"
      "certvault = cv_certvault\n[cv_default]\nactivate = 1\n[cv_certvault]\nactivate = 1\nmodule = " + module + "\n";
  if (!ca.token.pin_env.empty()) {
    text += "pin-env = " + ca.token.pin_env + "\n";
  } else if (!ca.token.pin_file.empty()) {
    text += "pin-file = " + ca.token.pin_file + "\n";
  }
  return text;
}

}  // namespace

std::string DefaultProviderModule() { return CV_PROVIDER_MODULE; }

ServerTls::~ServerTls() {
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  key_.reset();
}

// LoadProvider: the configuration goes through a private temporary file
// (OpenSSL 3.0 has no API to pass provider parameters without one).
Status ServerTls::LoadProvider(const CaConfig& ca, const ServerConfig& server) {
  libctx_.reset(OSSL_LIB_CTX_new());
  if (libctx_ == nullptr) return ossl::OpenSslError("OSSL_LIB_CTX_new");
  std::string path = ca.dir + "/.server-openssl.cnf.XXXXXX";
  int fd = mkstemp(path.data());
  if (fd < 0) return FailedPreconditionError("cannot write a temporary file in " + ca.dir);
  std::string text = ConfigText(ca, server);
  bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  int loaded = written ? OSSL_LIB_CTX_load_config(libctx_.get(), path.c_str()) : 0;
  unlink(path.c_str());
  if (loaded != 1 || !OSSL_PROVIDER_available(libctx_.get(), "certvault")) {
    Status why = ossl::OpenSslError("loading the provider", Reason::kFunctionFailed);
    return FailedPreconditionError("cannot load certvault's OpenSSL provider (" +
                                   (server.provider_module.empty() ? DefaultProviderModule() : server.provider_module) +
                                   "; set [server] provider_module): " + std::string(why.message()));
  }
  return OkStatus();
}

Status ServerTls::LoadKey(const CaConfig& ca, const ServerConfig& server) {
  std::string uri = "certvault:token=" + UriEscape(ca.token.label) + ";object=" + UriEscape(server.tls_key_label) +
                    ";type=private";
  OSSL_STORE_CTX* store =
      OSSL_STORE_open_ex(uri.c_str(), libctx_.get(), nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
  if (store != nullptr) {
    while (key_ == nullptr && !OSSL_STORE_eof(store)) {
      OSSL_STORE_INFO* info = OSSL_STORE_load(store);
      if (info == nullptr) break;
      if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY) key_.reset(OSSL_STORE_INFO_get1_PKEY(info));
      OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(store);
  }
  if (key_ == nullptr) {
    Status why = ossl::OpenSslError("OSSL_STORE_load", Reason::kFunctionFailed);  // the provider's reason, if any
    return FailedPreconditionError("no TLS server key '" + server.tls_key_label +
                                   "' in the CA token through certvault's provider (run 'certvault-ca server-cert'; "
                                   "the token must be a certvault token): " + std::string(why.message()));
  }
  if (SSL_CTX_use_certificate_chain_file(ctx_, server.tls_cert.c_str()) != 1) {
    ERR_clear_error();
    return FailedPreconditionError("cannot read " + server.tls_cert + " (run 'certvault-ca server-cert')");
  }
  if (SSL_CTX_use_PrivateKey(ctx_, key_.get()) != 1 || SSL_CTX_check_private_key(ctx_) != 1) {
    ERR_clear_error();
    return FailedPreconditionError(server.tls_cert + " is not the certificate of the token's TLS key");
  }
  return OkStatus();
}

Status ServerTls::LoadAnchors(const CaConfig& ca, const ServerConfig& server) {
  X509_STORE* store = SSL_CTX_get_cert_store(ctx_);
  std::vector<std::string> files = server.client_anchors;
  files.push_back(ca.dir + "/chain.pem");
  // Every key generation's CA certificates too: an operator certificate
  // issued before a rollover (docs/design/ca.md "Key rollover") still signs
  // in; one past its issuer's notAfter fails verification anyway.
  CV_ASSIGN_OR_RETURN(KeyGenerations gens, LoadGenerations(ca.dir));
  for (uint32_t g = 1; g < gens.issuing; ++g) files.push_back(ca.dir + "/issuing" + GenerationSuffix(g) + ".pem");
  for (uint32_t g = 1; g < gens.root; ++g) files.push_back(ca.dir + "/root" + GenerationSuffix(g) + ".pem");
  for (const std::string& f : files) {
    if (X509_STORE_load_file_ex(store, f.c_str(), libctx_.get(), nullptr) != 1) {
      ERR_clear_error();
      return FailedPreconditionError("cannot read the client anchors in " + f);
    }
  }
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, &AcceptAndRecord);
  SSL_CTX_set_verify_depth(ctx_, 5);
  return OkStatus();
}

Result<std::unique_ptr<ServerTls>> ServerTls::Create(const CaConfig& ca, const ServerConfig& server) {
  std::unique_ptr<ServerTls> tls(new ServerTls());
  CV_RETURN_IF_ERROR(tls->LoadProvider(ca, server));
  // Key exchange, ciphers and digests from the default provider: certvault's EC, X25519 and ECDH
  // implementations serve vault keys only, and would leave only finite-field groups. The
  // server key still signs in certvault's provider (its key manager names the operation).
  tls->ctx_ = SSL_CTX_new_ex(tls->libctx_.get(), "?provider=default", TLS_server_method());
  if (tls->ctx_ == nullptr) return ossl::OpenSslError("SSL_CTX_new_ex");
  int min = server.tls_min_version == "1.2" ? TLS1_2_VERSION : TLS1_3_VERSION;
  if (SSL_CTX_set_min_proto_version(tls->ctx_, min) != 1) return ossl::OpenSslError("SSL_CTX_set_min_proto_version");
  SSL_CTX_set_options(tls->ctx_, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_session_id_context(tls->ctx_, reinterpret_cast<const unsigned char*>("certvault-est"), 13);
  CV_RETURN_IF_ERROR(tls->LoadKey(ca, server));
  CV_RETURN_IF_ERROR(tls->LoadAnchors(ca, server));
  return tls;
}

}  // namespace certvault::ca
