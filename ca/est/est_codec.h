// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EST (RFC 7030, clarified by RFC 8951) request decoding and response
// encoding, free of any server state so that it can be fuzzed alone
// (fuzz/est_request_fuzzer.cc). Design: docs/design/enrollment.md.
//   - ParseEstPath: "/.well-known/est/[<label>/]<operation>" (RFC 7030 §3.2.2).
//   - DecodeBase64Body: RFC 8951 §3.2: bodies are base64 (RFC 4648 §4), the
//     Content-Transfer-Encoding header is ignored; line breaks are allowed.
//   - EncodeCertsOnly: a "certs-only" CMC Simple PKI Response (RFC 5272 §4.1,
//     a degenerate PKCS#7 SignedData) built by OpenSSL's PKCS7 code, base64.
//   - EncodeCsrAttrs: the CsrAttrs of RFC 7030 §4.5.2 for a profile.
#ifndef CERTVAULT_CA_EST_EST_CODEC_H_
#define CERTVAULT_CA_EST_EST_CODEC_H_

#include <openssl/x509.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ca/profile/profile.h"
#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"

namespace certvault::ca::est {

enum class Operation { kCaCerts, kSimpleEnroll, kSimpleReenroll, kCsrAttrs, kServerKeygen, kFullCmc };

struct EstPath {
  std::string label;  // the optional CA label segment ("" when absent); selects a profile
  Operation op = Operation::kCaCerts;
};

// kPrefix: the EST path prefix (RFC 7030 §3.2.2, RFC 8615 well-known URI).
inline constexpr std::string_view kPrefix = "/.well-known/est/";

// ParseEstPath: kNotFound when `path` is not under kPrefix, names an unknown
// operation, or has a label outside [A-Za-z0-9._-]{1,64} or more segments.
Result<EstPath> ParseEstPath(std::string_view path);
// OperationName: "cacerts", "simpleenroll", ... (for logs and metrics).
std::string_view OperationName(Operation op);
// IsPost: the operation's HTTP method is POST (else GET), RFC 7030 §3.2.2.
bool IsPost(Operation op);

// DecodeBase64Body: the bytes of a base64 body. Whitespace (SP, TAB, CR,
// LF) is skipped; anything else outside the RFC 4648 alphabet, bad padding
// or an empty result is kInvalidArgument; more than `max_decoded` bytes is
// kResourceExhausted.
Result<Bytes> DecodeBase64Body(std::span<const uint8_t> body, size_t max_decoded);
// ParseBasicAuth: RFC 7617 §2 "Basic" credentials (scheme case-insensitive)
// into a user id (1..64 bytes, no ':') and a non-empty password. False for
// anything else; the decoded buffer is wiped.
bool ParseBasicAuth(std::string_view header, std::string& out_id, SecretBytes& out_password);
// EncodeBase64: RFC 4648 §4 base64 on one line (no line breaks).
std::string EncodeBase64(std::span<const uint8_t> data);

// EncodeCertsOnly: DER of a degenerate PKCS#7 SignedData holding `certs`
// (none of them owned), made with OpenSSL's PKCS7 API.
Result<Bytes> EncodeCertsOnly(const std::vector<X509*>& certs);
// EncodeCertsOnlyDer: the same bytes as EncodeCertsOnly, from the
// certificates' DER without parsing them (the issue path: a parse costs
// OpenSSL 3 a public-key decoder per certificate). Each element must be one
// DER Certificate, as the CA has just signed and stored it.
Bytes EncodeCertsOnlyDer(std::span<const Bytes> certs);
// EncodeCsrAttrs: DER CsrAttrs for `profile`: the signature algorithm OID
// and, for EC-only profiles, an id-ecPublicKey attribute naming the allowed
// curves. An empty result means "nothing to say" (the server answers 204).
Result<Bytes> EncodeCsrAttrs(const Profile& profile);

}  // namespace certvault::ca::est

#endif  // CERTVAULT_CA_EST_EST_CODEC_H_
