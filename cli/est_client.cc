// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "cli/est_client.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <cctype>
#include <cstdlib>
#include <memory>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_der.h"
#include "src/crypto/ossl_error.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::cli {
namespace {

constexpr size_t kMaxAnswer = 1u << 20;
constexpr int kIoTimeoutSeconds = 60;  // per read/write, not per request

struct SslCtxFree {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
struct Pkcs7Free {
  void operator()(PKCS7* p) const { PKCS7_free(p); }
};

Result<ossl::UniquePtr<X509>> ParseDer(const Bytes& der) {
  ossl::UniquePtr<X509> cert(X509_new_ex(crypto::LibCtx(), crypto::kPropq));
  const uint8_t* p = der.data();
  X509* raw = cert.get();
  if (raw == nullptr || d2i_X509(&raw, &p, static_cast<long>(der.size())) == nullptr) {  // NOLINT
    return ossl::OpenSslError("d2i_X509", Reason::kDataInvalid);
  }
  return cert;
}

Status AddAnchors(X509_STORE* store, const std::vector<Bytes>& anchors) {
  for (const Bytes& der : anchors) {
    CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> cert, ParseDer(der));
    if (X509_STORE_add_cert(store, cert.get()) != 1) return ossl::OpenSslError("X509_STORE_add_cert");
  }
  return OkStatus();
}

}  // namespace

Result<TlsSslPtr> NewTlsClient(const std::string& host, const EstTls& tls) {
  OSSL_LIB_CTX* libctx = tls.libctx != nullptr ? tls.libctx : crypto::LibCtx();
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new_ex(libctx, "?provider=default", TLS_client_method()));
  if (ctx == nullptr) return ossl::OpenSslError("SSL_CTX_new_ex");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
  if (tls.verify) {
    CV_RETURN_IF_ERROR(AddAnchors(SSL_CTX_get_cert_store(ctx.get()), tls.anchors));
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  }
  if (tls.client_key != nullptr && (SSL_CTX_use_certificate(ctx.get(), tls.client_cert) != 1 ||
                                    SSL_CTX_use_PrivateKey(ctx.get(), tls.client_key) != 1)) {
    return ossl::OpenSslError("the client certificate and key do not fit together");
  }
  TlsSslPtr ssl(SSL_new(ctx.get()));
  if (ssl == nullptr) return ossl::OpenSslError("SSL_new");
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
  bool is_ip = X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
  if (!is_ip) {
    ERR_clear_error();
    if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0) != 1 ||
        SSL_set_tlsext_host_name(ssl.get(), host.c_str()) != 1) {
      return ossl::OpenSslError("setting the server name");
    }
  }
  return ssl;
}

namespace {

std::string RequestText(const EstUrl& url, std::string_view op, std::string_view authorization, std::string_view body) {
  std::string req = std::string(body.empty() ? "GET " : "POST ") + url.base + "/" + std::string(op) + " HTTP/1.1\r\n";
  req += "Host: " + url.host + ":" + url.port + "\r\nConnection: close\r\nUser-Agent: certvault\r\n";
  if (!authorization.empty()) req += "Authorization: " + std::string(authorization) + "\r\n";
  if (!body.empty()) {
    req += "Content-Type: application/pkcs10\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return req + "\r\n" + std::string(body);
}

// Complete: the headers and a Content-Length body have arrived.
bool Complete(const std::string& raw) {
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  std::string head = raw.substr(0, end);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t at = head.find("\r\ncontent-length:");
  if (at == std::string::npos) return false;
  size_t len = std::strtoul(head.c_str() + at + 17, nullptr, 10);
  return raw.size() - end - 4 >= len;
}

Result<std::string> Exchange(SSL* ssl, const std::string& request) {
  if (SSL_write(ssl, request.data(), static_cast<int>(request.size())) != static_cast<int>(request.size())) {
    return ossl::OpenSslError("sending the request", Reason::kDeviceError);
  }
  std::string raw;
  char buf[16384];
  for (;;) {
    int n = SSL_read(ssl, buf, sizeof buf);
    if (n <= 0) break;  // close_notify or the connection's end: the answer is what arrived
    raw.append(buf, static_cast<size_t>(n));
    if (raw.size() > kMaxAnswer) return Status(Reason::kDataLenRange, "the server's answer is larger than 1 MiB");
    if (Complete(raw)) break;  // a server that keeps the connection open despite Connection: close
  }
  ERR_clear_error();
  return raw;
}

// DechunkBody: RFC 9112 §7.1 chunked transfer coding (extensions ignored).
Result<std::string> DechunkBody(std::string_view in) {
  std::string out;
  for (;;) {
    size_t eol = in.find("\r\n");
    if (eol == std::string_view::npos) return Status(Reason::kDataInvalid, "malformed chunked answer");
    size_t len = std::strtoul(std::string(in.substr(0, eol)).c_str(), nullptr, 16);
    if (len == 0) return out;
    if (in.size() < eol + 2 + len + 2) return Status(Reason::kDataInvalid, "truncated chunked answer");
    out.append(in.substr(eol + 2, len));
    in.remove_prefix(eol + 2 + len + 2);
  }
}

Result<HttpAnswer> ParseAnswer(const std::string& raw) {
  size_t end = raw.find("\r\n\r\n");
  if (!raw.starts_with("HTTP/1.") || raw.size() < 12 || end == std::string::npos) {
    return Status(Reason::kDataInvalid, "the server's answer is not HTTP");
  }
  HttpAnswer answer;
  answer.status = std::atoi(raw.substr(9, 3).c_str());
  std::string head = raw.substr(0, end);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  answer.body = raw.substr(end + 4);
  // The value keeps its case (a multipart boundary is case-sensitive):
  // `head` is `raw` lowercased, so the offsets agree.
  if (size_t at = head.find("\r\ncontent-type:"); at != std::string::npos) {
    size_t from = at + 15, eol = head.find("\r\n", from);
    answer.content_type = raw.substr(from, eol == std::string::npos ? std::string::npos : eol - from);
    while (!answer.content_type.empty() && answer.content_type.front() == ' ') answer.content_type.erase(0, 1);
  }
  if (head.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
    CV_ASSIGN_OR_RETURN(answer.body, DechunkBody(answer.body));
  }
  return answer;
}

}  // namespace

Result<EstUrl> ParseEstUrl(std::string_view url) {
  if (!url.starts_with("https://")) return InvalidArgumentError("--server must be an https:// URL (RFC 7030 §3.3)");
  url.remove_prefix(8);
  EstUrl out;
  size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  out.base = slash == std::string_view::npos ? "" : std::string(url.substr(slash));
  while (out.base.ends_with('/')) out.base.pop_back();
  if (out.base.empty()) out.base = "/.well-known/est";
  size_t colon = authority.ends_with(']') ? std::string_view::npos : authority.rfind(':');
  out.host = std::string(authority.substr(0, colon));
  if (colon != std::string_view::npos) out.port = std::string(authority.substr(colon + 1));
  if (out.host.starts_with('[') && out.host.ends_with(']')) out.host = out.host.substr(1, out.host.size() - 2);
  if (out.host.empty() || out.port.empty() || out.port.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgumentError("--server: cannot read host and port in the URL");
  }
  return out;
}

Result<HttpAnswer> EstRequest(const EstUrl& url, const EstTls& tls, std::string_view op, std::string_view authorization,
                              std::string_view body) {
  CV_ASSIGN_OR_RETURN(TlsSslPtr ssl, NewTlsClient(url.host, tls));
  std::string target = (url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host) + ":" + url.port;
  ossl::UniquePtr<BIO> bio(BIO_new_connect(target.c_str()));
  if (bio == nullptr || BIO_do_connect(bio.get()) != 1) {
    ERR_clear_error();
    return Status(StatusCode::kUnavailable, Reason::kDeviceError, "cannot connect to " + target);
  }
  int fd = -1;
  if (BIO_get_fd(bio.get(), &fd) >= 0 && fd >= 0) {  // a server that stops answering does not hang the CLI
    timeval tv{kIoTimeoutSeconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  BIO* raw_bio = bio.release();  // owned by the SSL from here (SSL_set_bio)
  SSL_set_bio(ssl.get(), raw_bio, raw_bio);
  if (SSL_connect(ssl.get()) != 1) {
    long verify = SSL_get_verify_result(ssl.get());  // NOLINT(runtime/int)
    std::string why = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : "handshake failed";
    ERR_clear_error();
    return Status(StatusCode::kPermissionDenied, Reason::kDeviceError,
                  "TLS with " + target + " failed: " + why + " (is --trust the server's CA?)");
  }
  CV_ASSIGN_OR_RETURN(std::string raw, Exchange(ssl.get(), RequestText(url, op, authorization, body)));
  return ParseAnswer(raw);
}

Result<Bytes> DecodeBase64(std::string_view base64) {
  std::string clean;
  for (char c : base64) {
    if (!std::isspace(static_cast<unsigned char>(c))) clean += c;
  }
  if (clean.empty() || clean.size() % 4 != 0) return Status(Reason::kDataInvalid, "the answer is not base64");
  Bytes der(clean.size() / 4 * 3);
  int n = EVP_DecodeBlock(der.data(), reinterpret_cast<const uint8_t*>(clean.data()), static_cast<int>(clean.size()));
  if (n < 0) return Status(Reason::kDataInvalid, "the answer is not base64");
  size_t pad = clean.ends_with("==") ? 2 : clean.ends_with('=') ? 1 : 0;
  der.resize(static_cast<size_t>(n) - pad);
  return der;
}

Result<std::vector<MimePart>> SplitMultipart(std::string_view content_type, std::string_view body) {
  const Status bad(Reason::kDataInvalid, "the answer is not a well-formed multipart/mixed body");
  size_t at = content_type.find("boundary=");
  if (!content_type.starts_with("multipart/mixed") || at == std::string_view::npos) return bad;
  std::string_view b = content_type.substr(at + 9);
  b = b.substr(0, b.find(';'));
  if (b.size() >= 2 && b.front() == '"' && b.back() == '"') b = b.substr(1, b.size() - 2);
  if (b.empty() || b.size() > 70) return bad;  // RFC 2046 §5.1.1: 1..70 characters
  const std::string delim = "--" + std::string(b);
  std::vector<MimePart> parts;
  size_t pos = body.find(delim);
  while (pos != std::string_view::npos) {
    size_t start = pos + delim.size();
    if (body.substr(start, 2) == "--") return parts.empty() ? bad : Result<std::vector<MimePart>>(std::move(parts));
    size_t head_end = body.find("\r\n\r\n", start);
    size_t next = body.find("\r\n" + delim, start);
    if (head_end == std::string_view::npos || next == std::string_view::npos || head_end > next) return bad;
    MimePart part;
    std::string head(body.substr(start, head_end - start));
    for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t ct = head.find("content-type:");
    if (ct != std::string::npos) part.content_type = head.substr(ct + 13, head.find("\r\n", ct) - ct - 13);
    part.body = std::string(body.substr(head_end + 4, next - head_end - 4));
    parts.push_back(std::move(part));
    pos = next + 2;
  }
  return bad;  // no closing delimiter
}

Result<std::vector<Bytes>> DecodeCertsOnly(std::string_view base64) {
  CV_ASSIGN_OR_RETURN(Bytes der, DecodeBase64(base64));
  const uint8_t* p = der.data();
  std::unique_ptr<PKCS7, Pkcs7Free> p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));  // NOLINT
  if (p7 == nullptr || !PKCS7_type_is_signed(p7.get()) || p7->d.sign == nullptr || p7->d.sign->cert == nullptr) {
    ERR_clear_error();
    return Status(Reason::kDataInvalid, "the answer is not a certs-only PKCS#7");
  }
  std::vector<Bytes> certs;
  for (int i = 0; i < sk_X509_num(p7->d.sign->cert); ++i) {
    CV_ASSIGN_OR_RETURN(Bytes one, (ossl::ToDer<X509, i2d_X509>(sk_X509_value(p7->d.sign->cert, i), "i2d_X509")));
    certs.push_back(std::move(one));
  }
  return certs;
}

std::string Base64(std::span<const uint8_t> data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<uint8_t*>(out.data()), data.data(), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> Sha256Hex(std::span<const uint8_t> data) {
  uint8_t md[32];
  unsigned len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, crypto::DigestByName("SHA256"), nullptr) != 1) {
    return ossl::OpenSslError("EVP_Digest");
  }
  return HexEncode(std::span<const uint8_t>(md, len));
}

Result<std::string> NormalizeFingerprint(std::string_view text) {
  std::string hex;
  for (char c : text) {
    if (c == ':') continue;
    hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  Bytes raw;
  if (!HexDecode(hex, &raw) || raw.size() != 32) {
    return InvalidArgumentError("--trust-fingerprint must be a SHA-256 fingerprint (64 hex digits, colons allowed)");
  }
  return hex;
}

Status VerifyChain(const Bytes& leaf, const std::vector<Bytes>& untrusted, const std::vector<Bytes>& anchors) {
  ossl::UniquePtr<X509_STORE> store(X509_STORE_new());
  if (store == nullptr) return ossl::OpenSslError("X509_STORE_new");
  CV_RETURN_IF_ERROR(AddAnchors(store.get(), anchors));
  ossl::X509StackPtr chain(sk_X509_new_null());
  for (const Bytes& der : untrusted) {
    CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> c, ParseDer(der));
    if (sk_X509_push(chain.get(), c.get()) <= 0) return ossl::OpenSslError("sk_X509_push");
    c.release();  // owned by `chain` (sk_X509_push)
  }
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> cert, ParseDer(leaf));
  ossl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new_ex(crypto::LibCtx(), crypto::kPropq));
  if (ctx == nullptr || X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), chain.get()) != 1) {
    return ossl::OpenSslError("X509_STORE_CTX_init");
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    std::string why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
    ERR_clear_error();
    return Status(StatusCode::kPermissionDenied, Reason::kDataInvalid,
                  "the returned certificate does not chain to the trust anchor: " + why);
  }
  return OkStatus();
}

}  // namespace certvault::cli
