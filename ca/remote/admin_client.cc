// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/remote/admin_client.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "ca/server/tls_context.h"
#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

constexpr size_t kMaxAnswer = 16 << 20;
constexpr int kIoTimeoutS = 60;

struct StoreClose {
  void operator()(OSSL_STORE_CTX* p) const { OSSL_STORE_close(p); }
};
struct StoreInfoFree {
  void operator()(OSSL_STORE_INFO* p) const { OSSL_STORE_INFO_free(p); }
};
struct SslFree {
  void operator()(SSL* p) const { SSL_free(p); }
};

std::string SslErrors() {
  std::string out;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {  // NOLINT(runtime/int)
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out;
}

// ParseAnswer: "HTTP/1.1 NNN ...\r\n headers \r\n\r\n body" (the server
// closes the connection after the body).
Result<RemoteAnswer> ParseAnswer(const std::string& raw) {
  size_t head_end = raw.find("\r\n\r\n");
  if (!raw.starts_with("HTTP/1.") || raw.size() < 12 || head_end == std::string::npos) {
    return UnavailableError("malformed HTTP answer from the server");
  }
  RemoteAnswer a;
  a.status = std::atoi(raw.c_str() + 9);
  a.body = raw.substr(head_end + 4);
  return a;
}

}  // namespace

Status ParseServerUrl(std::string_view url, std::string& out_host, std::string& out_port) {
  if (!url.starts_with("https://")) return InvalidArgumentError("--server: give https://HOST[:PORT]");
  std::string_view rest = url.substr(8);
  if (rest.ends_with("/")) rest.remove_suffix(1);
  if (rest.empty() || rest.find_first_of("/?#@[]") != std::string_view::npos) {
    return InvalidArgumentError("--server: give https://HOST[:PORT] (no path)");
  }
  size_t colon = rest.find(':');
  out_host = std::string(rest.substr(0, colon));
  out_port = colon == std::string_view::npos ? "443" : std::string(rest.substr(colon + 1));
  if (out_host.empty() || out_port.empty() || out_port.size() > 5 ||
      out_port.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgumentError("--server: bad host or port");
  }
  return OkStatus();
}

Result<std::string> IdentityStoreUri(std::string_view identity) {
  if (identity.find('?') != std::string_view::npos) {
    return InvalidArgumentError("--identity: no query part (give the PIN with --pin-file)");
  }
  std::string_view path;
  if (identity.starts_with("pkcs11:")) {
    path = identity.substr(7);
  } else if (identity.starts_with("certvault:")) {
    path = identity.substr(10);
  } else {
    return InvalidArgumentError("--identity: a pkcs11: URI (RFC 7512), e.g. pkcs11:token=alice;object=op");
  }
  if (path.find("object=") == std::string_view::npos && path.find("id=") == std::string_view::npos) {
    return InvalidArgumentError("--identity: name the key (object= or id=)");
  }
  return "certvault:" + std::string(path);
}

AdminClient::~AdminClient() {
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  cert_.reset();
  key_.reset();
}

// LoadProvider: as ServerTls (a private temporary configuration file; it
// names the module, the vault or socket and the PIN file, never a PIN).
Status AdminClient::LoadProvider(const RemoteOptions& o) {
  libctx_.reset(OSSL_LIB_CTX_new());
  if (libctx_ == nullptr) return InternalError("OSSL_LIB_CTX_new failed");
  std::string module = o.provider_module.empty() ? DefaultProviderModule() : o.provider_module;
  std::string text =
      "openssl_conf = cv_init\n[cv_init]\nproviders = cv_providers\n[cv_providers]\ndefault = cv_default\n"
      "certvault = cv_certvault\n[cv_default]\nactivate = 1\n[cv_certvault]\nactivate = 1\nmodule = " +
      module + "\n";
  if (!o.vault.empty()) text += "vault = " + o.vault + "\n";
  if (!o.socket.empty()) text += "socket = " + o.socket + "\n";
  if (!o.pin_file.empty()) text += "pin-file = " + o.pin_file + "\n";
  const char* tmp = std::getenv("TMPDIR");
  std::string path = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/certvault-ca-client.cnf.XXXXXX";
  int fd = mkstemp(path.data());
  if (fd < 0) return FailedPreconditionError("cannot write a temporary file in " + path.substr(0, path.rfind('/')));
  bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  int loaded = written ? OSSL_LIB_CTX_load_config(libctx_.get(), path.c_str()) : 0;
  unlink(path.c_str());
  if (loaded != 1 || !OSSL_PROVIDER_available(libctx_.get(), "certvault")) {
    return FailedPreconditionError("cannot load certvault's OpenSSL provider (" + module + "): " + SslErrors());
  }
  return OkStatus();
}

Status AdminClient::LoadP11Identity(const RemoteOptions& o) {
  CV_ASSIGN_OR_RETURN(p11_, P11Context::Create());
  Result<P11Uri> uri = ParseP11Uri(o.identity);
  if (!uri.ok()) return InvalidArgumentError("--identity: " + std::string(uri.status().message()));
  if (o.pin_file.empty()) return InvalidArgumentError("--module: give the token's PIN with --pin-file");
  CV_ASSIGN_OR_RETURN(SecretBytes pin, ReadPinFile(o.pin_file));
  Result<P11Key> key = OpenP11Key(p11_->get(), o.module, *uri, pin);
  if (!key.ok()) {
    return Status(key.status().code(), "the identity key " + o.identity + " in " + o.module +
                                           " cannot be used: " + std::string(key.status().message()));
  }
  key_ = std::move(key->key);
  cert_ = std::move(key->cert);
  return OkStatus();
}

// LoadIdentity: the private key (and, without --identity-cert, the
// certificate of the same label) from the token through the provider.
Status AdminClient::LoadIdentity(const RemoteOptions& o) {
  if (!o.module.empty()) {
    CV_RETURN_IF_ERROR(LoadP11Identity(o));
  } else {
    CV_RETURN_IF_ERROR(LoadStoreIdentity(o));
  }
  if (!o.identity_cert.empty()) {
    BIO* bio = BIO_new_file(o.identity_cert.c_str(), "r");
    cert_.reset(bio != nullptr ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr);
    BIO_free(bio);
  }
  ERR_clear_error();
  if (cert_ == nullptr) {
    return FailedPreconditionError(
        "no operator certificate: give --identity-cert, or import it into the token "
        "with the key's label");
  }
  return OkStatus();
}

// LoadStoreIdentity: the key (and a certificate of the same label) through
// certvault's provider.
Status AdminClient::LoadStoreIdentity(const RemoteOptions& o) {
  CV_ASSIGN_OR_RETURN(std::string uri, IdentityStoreUri(o.identity));
  std::unique_ptr<OSSL_STORE_CTX, StoreClose> store(
      OSSL_STORE_open_ex(uri.c_str(), libctx_.get(), nullptr, nullptr, nullptr, nullptr, nullptr, nullptr));
  while (store != nullptr && !OSSL_STORE_eof(store.get())) {
    std::unique_ptr<OSSL_STORE_INFO, StoreInfoFree> info(OSSL_STORE_load(store.get()));
    if (info == nullptr) break;
    int type = OSSL_STORE_INFO_get_type(info.get());
    if (type == OSSL_STORE_INFO_PKEY && key_ == nullptr) key_.reset(OSSL_STORE_INFO_get1_PKEY(info.get()));
    if (type == OSSL_STORE_INFO_CERT && cert_ == nullptr) cert_.reset(OSSL_STORE_INFO_get1_CERT(info.get()));
  }
  if (key_ == nullptr) {
    return FailedPreconditionError("the identity key " + o.identity + " cannot be opened through certvault's provider" +
                                   " (PIN in --pin-file; --vault or --socket): " + SslErrors());
  }
  return OkStatus();
}

Status AdminClient::MakeContext(const RemoteOptions& o) {
  ctx_ = SSL_CTX_new_ex(Ctx(), nullptr, TLS_client_method());
  if (ctx_ == nullptr) return InternalError("SSL_CTX_new_ex: " + SslErrors());
  SSL_CTX_set_min_proto_version(ctx_, TLS1_3_VERSION);
  if (o.trust.empty() || SSL_CTX_load_verify_file(ctx_, o.trust.c_str()) != 1) {
    return FailedPreconditionError("--trust: cannot read the CA certificate file '" + o.trust + "'");
  }
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_use_certificate(ctx_, cert_.get()) != 1 || SSL_CTX_use_PrivateKey(ctx_, key_.get()) != 1 ||
      SSL_CTX_check_private_key(ctx_) != 1) {
    return FailedPreconditionError("the operator certificate is not the identity key's: " + SslErrors());
  }
  return OkStatus();
}

Result<std::unique_ptr<AdminClient>> AdminClient::Create(const RemoteOptions& options) {
  std::unique_ptr<AdminClient> c(new AdminClient());
  CV_RETURN_IF_ERROR(ParseServerUrl(options.server, c->host_, c->port_));
  if (options.module.empty()) {
    CV_RETURN_IF_ERROR(c->LoadProvider(options));
  }
  CV_RETURN_IF_ERROR(c->LoadIdentity(options));
  CV_RETURN_IF_ERROR(c->MakeContext(options));
  return c;
}

Result<RemoteAnswer> AdminClient::Request(std::string_view method, std::string_view path, std::string_view body) {
  BIO* bio = BIO_new_connect((host_ + ":" + port_).c_str());
  if (bio == nullptr || BIO_do_connect(bio) <= 0) {
    BIO_free_all(bio);
    ERR_clear_error();
    return UnavailableError("cannot connect to " + host_ + ":" + port_);
  }
  timeval tv{kIoTimeoutS, 0};
  int fd = static_cast<int>(BIO_get_fd(bio, nullptr));
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx_));
  if (ssl == nullptr) {
    BIO_free_all(bio);
    return InternalError("SSL_new failed");
  }
  SSL_set_bio(ssl.get(), bio, bio);  // the SSL owns the BIO now
  in6_addr ip{};
  bool is_ip = inet_pton(AF_INET, host_.c_str(), &ip) == 1 || inet_pton(AF_INET6, host_.c_str(), &ip) == 1;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
  if (is_ip
          ? X509_VERIFY_PARAM_set1_ip_asc(param, host_.c_str()) != 1
          : (SSL_set_tlsext_host_name(ssl.get(), host_.c_str()) != 1 || SSL_set1_host(ssl.get(), host_.c_str()) != 1)) {
    return InternalError("cannot set the server name to check");
  }
  if (SSL_connect(ssl.get()) != 1) return UnavailableError("TLS handshake with " + host_ + " failed: " + SslErrors());
  std::string req =
      std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: " + host_ +
      "\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + std::string(body);
  if (SSL_write(ssl.get(), req.data(), static_cast<int>(req.size())) != static_cast<int>(req.size())) {
    return UnavailableError("sending the request failed: " + SslErrors());
  }
  std::string raw;
  char buf[16384];
  for (int n; (n = SSL_read(ssl.get(), buf, sizeof(buf))) > 0;) {
    raw.append(buf, static_cast<size_t>(n));
    if (raw.size() > kMaxAnswer) return UnavailableError("the server's answer is too large");
  }
  ERR_clear_error();
  return ParseAnswer(raw);
}

}  // namespace certvault::ca
