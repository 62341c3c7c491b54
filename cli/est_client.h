// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// A small EST client (RFC 7030 with the RFC 8951 clarifications) for
// `certvault enroll` / `renew`: HTTPS with OpenSSL (TLS 1.3 only, in
// certvault's library context), one HTTP/1.1 request per connection
// (`Connection: close`), the server authenticated against trust anchors.
#ifndef CERTVAULT_CLI_EST_CLIENT_H_
#define CERTVAULT_CLI_EST_CLIENT_H_

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/bytes.h"
#include "src/base/result.h"

namespace certvault::cli {

// EstUrl: https://HOST[:PORT][/PATH]; PATH defaults to /.well-known/est.
struct EstUrl {
  std::string host;
  std::string port = "443";
  std::string base;  // no trailing slash
};
Result<EstUrl> ParseEstUrl(std::string_view url);

// EstTls: how the connection is made. `anchors` are DER certificates; with
// `verify` false the server is not authenticated (only for the fingerprint
// bootstrap, whose result is then checked by hash). The client key and
// certificate, if set, authenticate the client (re-enrollment); the key may
// live in another library context (a provider key), `libctx` is then that
// context.
struct EstTls {
  std::vector<Bytes> anchors;
  bool verify = true;
  EVP_PKEY* client_key = nullptr;
  X509* client_cert = nullptr;
  OSSL_LIB_CTX* libctx = nullptr;  // nullptr: certvault's LibCtx()
};

// TlsSslFree / TlsSslPtr: an owned SSL (libssl has no ossl::UniquePtr deleter:
// src/crypto links libcrypto only).
struct TlsSslFree {
  void operator()(SSL* p) const { SSL_free(p); }
};
using TlsSslPtr = std::unique_ptr<SSL, TlsSslFree>;

// NewTlsClient: a client SSL (TLS 1.3 minimum, in `tls.libctx`) for
// `host`, whose name or IP address must be in the server certificate when
// `tls.verify` is set (SNI for names); with `tls.client_key` the client
// authenticates with it. Not yet connected: the caller gives it a BIO.
// kInvalidArgument-like OpenSSL errors when the key and certificate do not
// fit or an anchor does not parse.
Result<TlsSslPtr> NewTlsClient(const std::string& host, const EstTls& tls);

struct HttpAnswer {
  int status = 0;
  std::string body;
  std::string content_type;  // the Content-Type header's value as sent ("" if none)
};

// EstRequest: one request to base + "/" + op. `authorization` is a full
// header value or empty; `body` is sent with Content-Type application/pkcs10
// when non-empty (POST), else GET. Answers larger than 1 MiB are refused.
Result<HttpAnswer> EstRequest(const EstUrl& url, const EstTls& tls, std::string_view op, std::string_view authorization,
                              std::string_view body);

// DecodeCertsOnly: the certificates (DER) of a base64 certs-only PKCS#7
// answer (RFC 7030 §4.1.3, §4.2.3).
Result<std::vector<Bytes>> DecodeCertsOnly(std::string_view base64);

// DecodeBase64: RFC 4648 §4, whitespace ignored. kDataInvalid if malformed.
Result<Bytes> DecodeBase64(std::string_view base64);

// MimePart / SplitMultipart: the parts of a multipart/mixed body (RFC 2046
// §5.1; RFC 7030 §4.4.2 serverkeygen answers): each part's Content-Type
// (lowercased, "" if absent) and its content as sent. kDataInvalid without a
// boundary parameter, without a part, or without the closing delimiter.
struct MimePart {
  std::string content_type;
  std::string body;
};
Result<std::vector<MimePart>> SplitMultipart(std::string_view content_type, std::string_view body);

// Base64: RFC 4648 §4 on one line.
std::string Base64(std::span<const uint8_t> data);

// Sha256Hex: lower-case hex SHA-256 of `data` (certificate fingerprints).
Result<std::string> Sha256Hex(std::span<const uint8_t> data);

// NormalizeFingerprint: "AB:CD..." or "abcd..." to 64 lower-case hex digits.
Result<std::string> NormalizeFingerprint(std::string_view text);

// VerifyChain: `leaf` chains to one of `anchors` through `untrusted`, with
// the purpose's checks (X509_PURPOSE_SSL_CLIENT for an enrolled certificate).
Status VerifyChain(const Bytes& leaf, const std::vector<Bytes>& untrusted, const std::vector<Bytes>& anchors);

}  // namespace certvault::cli

#endif  // CERTVAULT_CLI_EST_CLIENT_H_
