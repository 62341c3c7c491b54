// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/est/est_codec.h"

#include <openssl/objects.h>
#include <openssl/crypto.h>
#include <openssl/pkcs7.h>
#include <strings.h>

#include <algorithm>
#include <array>

#include "ca/der/der_writer.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"

namespace certvault::ca::est {
namespace {

struct Pkcs7Free {
  void operator()(PKCS7* p) const noexcept { PKCS7_free(p); }
};

constexpr std::array<std::pair<std::string_view, Operation>, 6> kOperations = {{
    {"cacerts", Operation::kCaCerts},
    {"simpleenroll", Operation::kSimpleEnroll},
    {"simplereenroll", Operation::kSimpleReenroll},
    {"csrattrs", Operation::kCsrAttrs},
    {"serverkeygen", Operation::kServerKeygen},
    {"fullcmc", Operation::kFullCmc},
}};

bool ValidLabel(std::string_view label) {
  if (label.empty() || label.size() > 64 || label[0] == '.') return false;  // never "." or ".."
  return std::all_of(label.begin(), label.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

int Base64Value(uint8_t c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

Result<Bytes> OidDer(const char* dotted) {
  ossl::UniquePtr<ASN1_OBJECT> obj(OBJ_txt2obj(dotted, 1));
  if (obj == nullptr) return ossl::OpenSslError("OBJ_txt2obj");
  int n = i2d_ASN1_OBJECT(obj.get(), nullptr);
  if (n <= 0) return ossl::OpenSslError("i2d_ASN1_OBJECT");
  Bytes out(static_cast<size_t>(n));
  uint8_t* p = out.data();
  i2d_ASN1_OBJECT(obj.get(), &p);
  return out;
}

}  // namespace

Result<EstPath> ParseEstPath(std::string_view path) {
  if (!path.starts_with(kPrefix)) return NotFoundError("not an EST path");
  path.remove_prefix(kPrefix.size());
  EstPath out;
  size_t slash = path.find('/');
  if (slash != std::string_view::npos) {
    out.label = std::string(path.substr(0, slash));
    path.remove_prefix(slash + 1);
    if (!ValidLabel(out.label)) return NotFoundError("bad EST label");
  }
  for (const auto& [name, op] : kOperations) {
    if (path == name) {
      out.op = op;
      return out;
    }
  }
  return NotFoundError("unknown EST operation");
}

std::string_view OperationName(Operation op) {
  for (const auto& [name, o] : kOperations) {
    if (o == op) return name;
  }
  return "unknown";
}

bool IsPost(Operation op) { return op != Operation::kCaCerts && op != Operation::kCsrAttrs; }

// RFC 4648 §4 decoding, strict about the alphabet and the padding (§3.3:
// "implementations MUST reject the encoded data if it contains characters
// outside the base alphabet"), lenient only about line breaks, which RFC
// 8951 §3.2 lets EST peers insert.
Result<Bytes> DecodeBase64Body(std::span<const uint8_t> body, size_t max_decoded) {
  Bytes out;
  out.reserve(std::min(body.size(), max_decoded) * 3 / 4 + 3);
  uint32_t acc = 0;
  size_t nchars = 0, npad = 0;
  for (uint8_t c : body) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      ++npad;
      if (npad > 2) return InvalidArgumentError("base64: too much padding");
      ++nchars;
      continue;
    }
    int v = Base64Value(c);
    if (v < 0 || npad != 0) return InvalidArgumentError("base64: invalid character");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    if (++nchars % 4 == 0) {
      out.push_back(static_cast<uint8_t>(acc >> 16));
      out.push_back(static_cast<uint8_t>(acc >> 8));
      out.push_back(static_cast<uint8_t>(acc));
      acc = 0;
    }
    if (out.size() > max_decoded) return ResourceExhaustedError("request body too large");
  }
  if (nchars == 0 || nchars % 4 != 0) return InvalidArgumentError("base64: truncated");
  if (npad == 1) {  // "xxx=": 18 bits, the last 2 zero
    if ((acc & 0x3) != 0) return InvalidArgumentError("base64: non-canonical padding");
    out.push_back(static_cast<uint8_t>(acc >> 10));
    out.push_back(static_cast<uint8_t>(acc >> 2));
  } else if (npad == 2) {  // "xx==": 12 bits, the last 4 zero
    if ((acc & 0xf) != 0) return InvalidArgumentError("base64: non-canonical padding");
    out.push_back(static_cast<uint8_t>(acc >> 4));
  }
  if (out.size() > max_decoded) return ResourceExhaustedError("request body too large");
  return out;
}

bool ParseBasicAuth(std::string_view header, std::string& out_id, SecretBytes& out_password) {
  if (header.size() < 7 || strncasecmp(header.data(), "Basic ", 6) != 0) return false;
  header.remove_prefix(6);
  Result<Bytes> raw = DecodeBase64Body({reinterpret_cast<const uint8_t*>(header.data()), header.size()}, 512);
  if (!raw.ok()) return false;
  std::string_view text(reinterpret_cast<const char*>(raw->data()), raw->size());
  size_t colon = text.find(':');
  bool ok = colon != std::string_view::npos && colon > 0 && colon <= 64 && colon + 1 < text.size();
  if (ok) {
    out_id = std::string(text.substr(0, colon));
    out_password = SecretBytes(text.substr(colon + 1), SecretAccess::Get());
  }
  OPENSSL_cleanse(raw->data(), raw->size());
  return ok;
}

// RFC 8951 §3.2: "base64 encoding ... as defined in [RFC4648], Section 4",
// which has no line breaks (RFC 4648 §3.1); strongSwan's pki --est rejects
// a body with them.
std::string EncodeBase64(std::span<const uint8_t> data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<Bytes> EncodeCertsOnly(const std::vector<X509*>& certs) {
  std::unique_ptr<PKCS7, Pkcs7Free> p7(PKCS7_new_ex(crypto::LibCtx(), nullptr));
  if (p7 == nullptr || PKCS7_set_type(p7.get(), NID_pkcs7_signed) != 1 ||
      PKCS7_content_new(p7.get(), NID_pkcs7_data) != 1) {
    return ossl::OpenSslError("PKCS7 certs-only");
  }
  for (X509* cert : certs) {
    if (PKCS7_add_certificate(p7.get(), cert) != 1) return ossl::OpenSslError("PKCS7_add_certificate");
  }
  int n = i2d_PKCS7(p7.get(), nullptr);
  if (n <= 0) return ossl::OpenSslError("i2d_PKCS7");
  Bytes out(static_cast<size_t>(n));
  uint8_t* p = out.data();
  if (i2d_PKCS7(p7.get(), &p) != n) return ossl::OpenSslError("i2d_PKCS7");
  return out;
}

// RFC 5652 §5.1 (as RFC 5272 §4.1 uses it): ContentInfo { id-signedData,
// [0] EXPLICIT SignedData { version 1, digestAlgorithms {}, encapContentInfo
// { id-data, [0] EXPLICIT OCTET STRING "" }, certificates [0] IMPLICIT, signerInfos {} } },
// laid out as OpenSSL's i2d_PKCS7 does (certificates in the given order).
Bytes EncodeCertsOnlyDer(std::span<const Bytes> certs) {
  static constexpr uint8_t kSet = 0x31;  // X.690 §8.12, constructed
  static constexpr uint8_t kSignedData[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02};
  static constexpr uint8_t kData[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};
  Bytes encap;
  der::AppendTlv(encap, der::kOid, kData);
  der::AppendTlv(encap, der::ContextTag(0, true), der::Wrap(der::kOctetString, {}));
  Bytes all;
  for (const Bytes& c : certs) all.insert(all.end(), c.begin(), c.end());
  Bytes signed_data;
  der::AppendSmallInteger(signed_data, der::kInteger, 1);
  der::AppendTlv(signed_data, kSet, {});
  der::AppendTlv(signed_data, der::kSequence, encap);
  der::AppendTlv(signed_data, der::ContextTag(0, true), all);
  der::AppendTlv(signed_data, kSet, {});
  Bytes info;
  der::AppendTlv(info, der::kOid, kSignedData);
  der::AppendTlv(info, der::ContextTag(0, true), der::Wrap(der::kSequence, signed_data));
  return der::Wrap(der::kSequence, info);
}

// RFC 7030 §4.5.2: CsrAttrs ::= SEQUENCE SIZE (0..MAX) OF AttrOrOID, where
// AttrOrOID ::= CHOICE { oid OBJECT IDENTIFIER, attribute Attribute }. An OID
// alone names the signature algorithm the CA expects (§4.5.2 example:
// ecdsaWithSHA384); the id-ecPublicKey attribute lists acceptable curves.
Result<Bytes> EncodeCsrAttrs(const Profile& profile) {
  bool all_ec = !profile.key_algorithms.empty(), all_rsa = !profile.key_algorithms.empty();
  Bytes curves;
  for (const std::string& alg : profile.key_algorithms) {
    all_ec = all_ec && alg.starts_with("ec-");
    all_rsa = all_rsa && alg.starts_with("rsa-");
    const char* curve = alg == "ec-p256" ? "1.2.840.10045.3.1.7" : alg == "ec-p384" ? "1.3.132.0.34" : nullptr;
    if (curve == nullptr) continue;
    CV_ASSIGN_OR_RETURN(Bytes oid, OidDer(curve));
    curves.insert(curves.end(), oid.begin(), oid.end());
  }
  Bytes items;
  if (all_ec) {
    CV_ASSIGN_OR_RETURN(Bytes sig, OidDer("1.2.840.10045.4.3.2"));  // ecdsa-with-SHA256
    CV_ASSIGN_OR_RETURN(Bytes ec, OidDer("1.2.840.10045.2.1"));      // id-ecPublicKey
    Bytes attr = ec;
    Bytes set = der::Wrap(0x31, curves);
    attr.insert(attr.end(), set.begin(), set.end());
    Bytes attr_seq = der::Wrap(der::kSequence, attr);
    items.insert(items.end(), sig.begin(), sig.end());
    items.insert(items.end(), attr_seq.begin(), attr_seq.end());
  } else if (all_rsa) {
    CV_ASSIGN_OR_RETURN(Bytes sig, OidDer("1.2.840.113549.1.1.11"));  // sha256WithRSAEncryption
    items = sig;
  }
  if (items.empty()) return Bytes{};
  return der::Wrap(der::kSequence, items);
}

}  // namespace certvault::ca::est
