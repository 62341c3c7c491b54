// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/issuance/csr.h"

#include <arpa/inet.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

#include "ca/der/der_reader.h"
#include "ca/issuance/spki.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/provision/provision.h"

namespace certvault::ca {
namespace {

constexpr size_t kMaxRdns = 16;
constexpr size_t kMaxValue = 256;

// PemToDer: the DER inside one "CERTIFICATE REQUEST" PEM block.
Result<Bytes> PemToDer(std::span<const uint8_t> input) {
  ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(input.data(), static_cast<int>(input.size())));
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;  // NOLINT(runtime/int)
  if (bio == nullptr || PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
    ossl::ClearErrors();
    return InvalidArgumentError("malformed CSR: bad PEM armour");
  }
  bool ok = std::strcmp(name, "CERTIFICATE REQUEST") == 0 || std::strcmp(name, "NEW CERTIFICATE REQUEST") == 0;
  Bytes der(data, data + len);
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  if (!ok) return InvalidArgumentError("malformed CSR: PEM block is not a CERTIFICATE REQUEST");
  return der;
}

// CsrParts: RFC 2986 §4: CertificationRequest ::= SEQUENCE {
//   certificationRequestInfo SEQUENCE { version INTEGER (0), subject Name,
//     subjectPKInfo, attributes [0] }, signatureAlgorithm, signature BIT STRING }
struct CsrParts {
  std::span<const uint8_t> info, subject, spki, attributes, algorithm, signature;
};

Result<CsrParts> SplitCsr(std::span<const uint8_t> der) {
  const Status bad = InvalidArgumentError("malformed CSR: not a PKCS#10 request in DER or PEM");
  CsrParts parts;
  std::span<const uint8_t> outer, info_body, bits, version;
  der::DerReader top(der);
  if (!top.Expect(0x30, &outer) || !top.empty()) return bad;
  der::DerReader req(outer);
  if (!req.Expect(0x30, &info_body, &parts.info) || !req.Expect(0x30, nullptr, &parts.algorithm) ||
      !req.Expect(0x03, &bits) || !req.empty() || bits.empty() || bits[0] != 0) {
    return bad;
  }
  parts.signature = bits.subspan(1);
  der::DerReader info(info_body);
  if (!info.Expect(0x02, &version) || !info.Expect(0x30, nullptr, &parts.subject) ||
      !info.Expect(0x30, nullptr, &parts.spki)) {
    return bad;
  }
  if (version.size() != 1 || version[0] != 0) return InvalidArgumentError("CSR version must be 1 (0)");
  if (!info.empty() && !info.Expect(0xa0, &parts.attributes)) return bad;
  if (!info.empty()) return bad;
  return parts;
}

// VerifyDigest: ECDSA / RSA PKCS#1 v1.5 over a digest computed here: avoids
// OpenSSL 3.0's per-call digest fetch inside EVP_DigestVerifyInit.
Status VerifyDigest(const CsrParts& parts, EVP_PKEY* key, int md_nid, bool rsa) {
  const EVP_MD* md = crypto::DigestByNid(md_nid);
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (md == nullptr || EVP_Digest(parts.info.data(), parts.info.size(), digest, &len, md, nullptr) != 1) {
    ossl::ClearErrors();
    return PermissionDeniedError("unsupported CSR signature digest");
  }
  ossl::UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(crypto::LibCtx(), key, crypto::kPropq));
  bool ok = ctx != nullptr && EVP_PKEY_verify_init(ctx.get()) == 1 &&
            (!rsa || (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1 &&
                      EVP_PKEY_CTX_set_signature_md(ctx.get(), md) == 1)) &&
            EVP_PKEY_verify(ctx.get(), parts.signature.data(), parts.signature.size(), digest, len) == 1;
  ossl::ClearErrors();
  if (!ok) return PermissionDeniedError("CSR signature does not verify (no proof of possession)");
  return OkStatus();
}

// VerifySignature: RFC 2986 §3: the signature proves possession of the key.
Status VerifySignature(const CsrParts& parts, EVP_PKEY* key) {
  const uint8_t* p = parts.algorithm.data();
  ossl::UniquePtr<X509_ALGOR> alg(d2i_X509_ALGOR(nullptr, &p, static_cast<long>(parts.algorithm.size())));  // NOLINT
  if (alg == nullptr) {
    ossl::ClearErrors();
    return InvalidArgumentError("malformed CSR signature algorithm");
  }
  int md_nid = NID_undef, pkey_nid = NID_undef;
  if (OBJ_find_sigid_algs(OBJ_obj2nid(alg->algorithm), &md_nid, &pkey_nid) != 1 || pkey_nid == NID_rsassaPss) {
    return PermissionDeniedError("unsupported CSR signature algorithm");
  }
  const char* md = md_nid == NID_undef ? nullptr : OBJ_nid2sn(md_nid);
  bool ec = EVP_PKEY_is_a(key, "EC") && pkey_nid == NID_X9_62_id_ecPublicKey;
  bool rsa = EVP_PKEY_is_a(key, "RSA") && pkey_nid == NID_rsaEncryption;
  if ((ec || rsa) && md != nullptr) return VerifyDigest(parts, key, md_nid, rsa);
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestVerifyInit_ex(ctx.get(), nullptr, md, crypto::LibCtx(), crypto::kPropq, key, nullptr) != 1 ||
      EVP_DigestVerify(ctx.get(), parts.signature.data(), parts.signature.size(), parts.info.data(),
                       parts.info.size()) != 1) {
    ossl::ClearErrors();
    return PermissionDeniedError("CSR signature does not verify (no proof of possession)");
  }
  return OkStatus();
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
      return InvalidArgumentError(std::string("CSR subject attribute ") + OBJ_nid2sn(nid) +
                                  " is empty, too long or has NUL");
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
    case GEN_DNS:
      san.kind = x509::SanEntry::Kind::kDns;
      break;
    case GEN_EMAIL:
      san.kind = x509::SanEntry::Kind::kEmail;
      break;
    case GEN_URI:
      san.kind = x509::SanEntry::Kind::kUri;
      break;
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
    default:
      return PermissionDeniedError("CSR asks for a subjectAltName type the CA does not issue");
  }
  san.value.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)), ASN1_STRING_length(value));
  if (san.value.empty() || san.value.size() > kMaxValue || san.value.find('\0') != std::string::npos) {
    return InvalidArgumentError("CSR subjectAltName value is empty, too long or has NUL");
  }
  return san;
}

// AppendSans: the subjectAltNames among requested extensions.
Status AppendSans(const STACK_OF(X509_EXTENSION)* exts, std::vector<x509::SanEntry>& out) {
  int crit = 0;
  auto* names = static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, &crit, nullptr));
  ossl::ClearErrors();
  if (names == nullptr) {
    if (crit == -2) return InvalidArgumentError("CSR requests subjectAltName twice");
    if (crit >= 0) return InvalidArgumentError("CSR subjectAltName extension is malformed");
    return OkStatus();
  }
  ossl::UniquePtr<GENERAL_NAMES> owned(names);
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    CV_ASSIGN_OR_RETURN(x509::SanEntry san, ReadGeneralName(sk_GENERAL_NAME_value(names, i)));
    out.push_back(std::move(san));
  }
  return OkStatus();
}

// ReadSans: the subjectAltName of the extensionRequest attribute (PKCS#9,
// RFC 2985 §5.4.2); other attributes and requested extensions are ignored:
// the profile, not the CSR, decides the rest of the certificate.
Result<std::vector<x509::SanEntry>> ReadSans(std::span<const uint8_t> attributes) {
  static const uint8_t kExtReq[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e};
  std::vector<x509::SanEntry> out;
  const Status bad = InvalidArgumentError("malformed CSR attributes");
  der::DerReader attrs(attributes);
  bool seen = false;
  while (!attrs.empty()) {
    std::span<const uint8_t> attr, oid, values, exts_body, exts_whole;
    if (!attrs.Expect(0x30, &attr)) return bad;
    der::DerReader a(attr);
    if (!a.Expect(0x06, nullptr, &oid) || !a.Expect(0x31, &values) || !a.empty()) return bad;
    if (oid.size() != sizeof(kExtReq) || std::memcmp(oid.data(), kExtReq, sizeof(kExtReq)) != 0) continue;
    der::DerReader v(values);
    if (seen || !v.Expect(0x30, &exts_body, &exts_whole) || !v.empty())
      return InvalidArgumentError("CSR extensionRequest is malformed or repeated");
    seen = true;
    const uint8_t* p = exts_whole.data();
    STACK_OF(X509_EXTENSION)* exts = d2i_X509_EXTENSIONS(nullptr, &p, static_cast<long>(exts_whole.size()));  // NOLINT
    if (exts == nullptr) {
      ossl::ClearErrors();
      return InvalidArgumentError("CSR extensionRequest is malformed");
    }
    Status st = AppendSans(exts, out);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    CV_RETURN_IF_ERROR(st);
  }
  return out;
}

// ReadAttestationChain: the one value of attribute cvKeyAttestationChain
// (docs/formats/update-package.md), a SEQUENCE kept whole; empty if absent.
// The CSR's signature covers it, so it is bound to this request's key.
Result<Bytes> ReadAttestationChain(std::span<const uint8_t> attributes) {
  CV_ASSIGN_OR_RETURN(const provision::Nids* nids, provision::GetNids());
  ASN1_OBJECT* obj = OBJ_nid2obj(nids->attr_attestation_chain);
  unsigned char* oid_der = nullptr;
  int oid_len = obj != nullptr ? i2d_ASN1_OBJECT(obj, &oid_der) : -1;
  if (oid_len <= 0) return ossl::OpenSslError("i2d_ASN1_OBJECT");
  Bytes want(oid_der, oid_der + oid_len);
  OPENSSL_free(oid_der);
  const Status bad = InvalidArgumentError("malformed CSR attributes");
  der::DerReader attrs(attributes);
  Bytes out;
  while (!attrs.empty()) {
    std::span<const uint8_t> attr, oid, values, body, whole;
    if (!attrs.Expect(0x30, &attr)) return bad;
    der::DerReader a(attr);
    if (!a.Expect(0x06, nullptr, &oid) || !a.Expect(0x31, &values) || !a.empty()) return bad;
    if (!std::equal(oid.begin(), oid.end(), want.begin(), want.end())) continue;
    der::DerReader v(values);
    if (!out.empty() || !v.Expect(0x30, &body, &whole) || !v.empty()) {
      return InvalidArgumentError("CSR key attestation attribute is malformed or repeated");
    }
    out.assign(whole.begin(), whole.end());
  }
  return out;
}

}  // namespace

Result<std::vector<x509::SanEntry>> CertificateSans(std::span<const uint8_t> cert_der) {
  const uint8_t* p = cert_der.data();
  ossl::UniquePtr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(cert_der.size())));  // NOLINT(runtime/int)
  if (cert == nullptr) {
    ossl::ClearErrors();
    return InvalidArgumentError("malformed certificate");
  }
  std::vector<x509::SanEntry> out;
  int crit = 0;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, &crit, nullptr));
  ossl::ClearErrors();
  if (names == nullptr) {
    if (crit != -1) return InvalidArgumentError("certificate subjectAltName is malformed or repeated");
    return out;
  }
  ossl::UniquePtr<GENERAL_NAMES> owned(names);
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    CV_ASSIGN_OR_RETURN(x509::SanEntry san, ReadGeneralName(sk_GENERAL_NAME_value(names, i)));
    out.push_back(std::move(san));
  }
  return out;
}

bool SameSans(const std::vector<x509::SanEntry>& a, const std::vector<x509::SanEntry>& b) {
  auto normal = [](const std::vector<x509::SanEntry>& sans) {
    std::set<std::pair<int, std::string>> out;
    for (const x509::SanEntry& s : sans) {
      std::string v = s.value;
      if (s.kind == x509::SanEntry::Kind::kDns || s.kind == x509::SanEntry::Kind::kEmail) {
        std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
      }
      out.emplace(static_cast<int>(s.kind), std::move(v));
    }
    return out;
  };
  return normal(a) == normal(b);
}

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
  if (input.size() > max_bytes) {
    return ResourceExhaustedError("CSR of " + std::to_string(input.size()) + " bytes exceeds the limit of " +
                                  std::to_string(max_bytes));
  }
  if (input.empty()) return InvalidArgumentError("empty CSR");
  std::string_view text(reinterpret_cast<const char*>(input.data()), input.size());
  Bytes pem_der;
  if (text.find("-----BEGIN") != std::string_view::npos) {
    CV_ASSIGN_OR_RETURN(pem_der, PemToDer(input));
    input = pem_der;
  }
  CV_ASSIGN_OR_RETURN(CsrParts parts, SplitCsr(input));
  ParsedCsr out;
  CV_ASSIGN_OR_RETURN(out.public_key, PublicKeyFromSpki(parts.spki));
  CV_RETURN_IF_ERROR(VerifySignature(parts, out.public_key.get()));
  const uint8_t* p = parts.subject.data();
  ossl::UniquePtr<X509_NAME> subject(d2i_X509_NAME(nullptr, &p, static_cast<long>(parts.subject.size())));  // NOLINT
  if (subject == nullptr || p != parts.subject.data() + parts.subject.size()) {
    ossl::ClearErrors();
    return InvalidArgumentError("malformed CSR subject");
  }
  CV_ASSIGN_OR_RETURN(out.content.subject, ReadSubject(subject.get()));
  CV_ASSIGN_OR_RETURN(out.content.sans, ReadSans(parts.attributes));
  CV_ASSIGN_OR_RETURN(out.content.attestation_chain, ReadAttestationChain(parts.attributes));
  out.content.key_algorithm = KeyAlgorithmOf(out.public_key.get());
  out.spki.assign(parts.spki.begin(), parts.spki.end());
  return out;
}

Result<ParsedCsr> ParseVerifiedRequest(std::span<const uint8_t> spki, const X509_NAME* subject,
                                       const STACK_OF(X509_EXTENSION)* exts) {
  ParsedCsr out;
  CV_ASSIGN_OR_RETURN(out.public_key, PublicKeyFromSpki(spki));
  if (subject != nullptr) {
    CV_ASSIGN_OR_RETURN(out.content.subject, ReadSubject(subject));
  }
  if (exts != nullptr) CV_RETURN_IF_ERROR(AppendSans(exts, out.content.sans));
  out.content.key_algorithm = KeyAlgorithmOf(out.public_key.get());
  out.spki.assign(spki.begin(), spki.end());
  return out;
}

}  // namespace certvault::ca
