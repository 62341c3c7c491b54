// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/issuance/csr.h"

#include <openssl/pem.h>

#include <arpa/inet.h>

#include <cstring>

#include "src/base/status_macros.h"
#include "src/crypto/ossl_error.h"

namespace certvault::ca {
namespace {

constexpr size_t kMaxRdns = 16;
constexpr size_t kMaxValue = 256;

Result<ossl::UniquePtr<X509_REQ>> DecodeRequest(std::span<const uint8_t> input, size_t max_bytes) {
  if (input.size() > max_bytes) {
    return ResourceExhaustedError("CSR of " + std::to_string(input.size()) + " bytes exceeds the limit of " +
                                  std::to_string(max_bytes));
  }
  if (input.empty()) return InvalidArgumentError("empty CSR");
  constexpr std::string_view kPem = "-----BEGIN";
  std::string_view text(reinterpret_cast<const char*>(input.data()), input.size());
  ossl::UniquePtr<X509_REQ> req;
  if (text.find(kPem) != std::string_view::npos) {
    ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(input.data(), static_cast<int>(input.size())));
    if (bio != nullptr) req.reset(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  } else {
    const uint8_t* p = input.data();
    req.reset(d2i_X509_REQ(nullptr, &p, static_cast<long>(input.size())));  // NOLINT(runtime/int)
    if (req != nullptr && p != input.data() + input.size()) req.reset();
  }
  ossl::ClearErrors();
  if (req == nullptr) return InvalidArgumentError("malformed CSR: not a PKCS#10 request in DER or PEM");
  return req;
}

Result<std::vector<SubjectEntry>> ReadSubject(const X509_NAME* name) {
  int n = X509_NAME_entry_count(name);
  if (n < 0 || static_cast<size_t>(n) > kMaxRdns) return InvalidArgumentError("CSR subject has too many attributes");
  std::vector<SubjectEntry> out;
  for (int i = 0; i < n; ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    if (nid == NID_undef) return PermissionDeniedError("CSR subject has an unknown attribute type");
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    if (len < 0) {
      ossl::ClearErrors();
      return InvalidArgumentError("CSR subject attribute is not a valid string");
    }
    std::string value(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
    OPENSSL_free(utf8);
    if (value.empty() || value.size() > kMaxValue || value.find('\0') != std::string::npos) {
      return InvalidArgumentError(std::string("CSR subject attribute ") + OBJ_nid2sn(nid) + " is empty, too long or has NUL");
    }
    out.push_back({OBJ_nid2sn(nid), std::move(value)});
  }
  return out;
}

Result<x509::SanEntry> ReadGeneralName(const GENERAL_NAME* gen) {
  int type = 0;
  const auto* value = static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(gen, &type));
  x509::SanEntry san;
  switch (type) {
    case GEN_DNS: san.kind = x509::SanEntry::Kind::kDns; break;
    case GEN_EMAIL: san.kind = x509::SanEntry::Kind::kEmail; break;
    case GEN_URI: san.kind = x509::SanEntry::Kind::kUri; break;
    case GEN_IPADD: {
      san.kind = x509::SanEntry::Kind::kIp;
      int len = ASN1_STRING_length(value);
      if (len != 4 && len != 16) return InvalidArgumentError("CSR subjectAltName IP address has a bad length");
      char buf[64];
      int family = len == 4 ? AF_INET : AF_INET6;
      if (inet_ntop(family, ASN1_STRING_get0_data(value), buf, sizeof(buf)) == nullptr) {
        return InvalidArgumentError("CSR subjectAltName IP address is malformed");
      }
      san.value = buf;
      return san;
    }
    default: return PermissionDeniedError("CSR asks for a subjectAltName type the CA does not issue");
  }
  san.value.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)), ASN1_STRING_length(value));
  if (san.value.empty() || san.value.size() > kMaxValue || san.value.find('\0') != std::string::npos) {
    return InvalidArgumentError("CSR subjectAltName value is empty, too long or has NUL");
  }
  return san;
}

Result<std::vector<x509::SanEntry>> ReadSans(X509_REQ* req) {
  std::vector<x509::SanEntry> out;
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  ossl::ClearErrors();
  if (exts == nullptr) return out;
  int crit = 0;
  auto* names = static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, &crit, nullptr));
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  if (names == nullptr) {
    ossl::ClearErrors();
    if (crit == -2) return InvalidArgumentError("CSR requests subjectAltName twice");
    if (crit >= 0) return InvalidArgumentError("CSR subjectAltName extension is malformed");
    return out;
  }
  ossl::UniquePtr<GENERAL_NAMES> owned(names);
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    CV_ASSIGN_OR_RETURN(x509::SanEntry san, ReadGeneralName(sk_GENERAL_NAME_value(names, i)));
    out.push_back(std::move(san));
  }
  return out;
}

}  // namespace

std::string KeyAlgorithmOf(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA")) return "rsa-" + std::to_string(EVP_PKEY_get_bits(key));
  if (EVP_PKEY_is_a(key, "ED25519")) return "ed25519";
  if (EVP_PKEY_is_a(key, "ED448")) return "ed448";
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &len) != 1) {
      ossl::ClearErrors();
      return "unsupported";
    }
    if (std::strcmp(group, "prime256v1") == 0 || std::strcmp(group, "P-256") == 0) return "ec-p256";
    if (std::strcmp(group, "secp384r1") == 0 || std::strcmp(group, "P-384") == 0) return "ec-p384";
    if (std::strcmp(group, "secp521r1") == 0 || std::strcmp(group, "P-521") == 0) return "ec-p521";
  }
  return "unsupported";
}

Result<ParsedCsr> ParseCsr(std::span<const uint8_t> input, size_t max_bytes) {
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509_REQ> req, DecodeRequest(input, max_bytes));
  if (X509_REQ_get_version(req.get()) != X509_REQ_VERSION_1) return InvalidArgumentError("CSR version must be 1 (0)");
  ParsedCsr out;
  out.public_key.reset(X509_REQ_get_pubkey(req.get()));
  if (out.public_key == nullptr) {
    ossl::ClearErrors();
    return InvalidArgumentError("CSR public key is malformed or of an unknown type");
  }
  // RFC 2986 §3: the signature proves possession of the private key.
  if (X509_REQ_verify(req.get(), out.public_key.get()) != 1) {
    ossl::ClearErrors();
    return PermissionDeniedError("CSR signature does not verify (no proof of possession)");
  }
  CV_ASSIGN_OR_RETURN(out.content.subject, ReadSubject(X509_REQ_get_subject_name(req.get())));
  CV_ASSIGN_OR_RETURN(out.content.sans, ReadSans(req.get()));
  out.content.key_algorithm = KeyAlgorithmOf(out.public_key.get());
  return out;
}

}  // namespace certvault::ca
