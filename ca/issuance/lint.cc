// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/issuance/lint.h"

#include <cctype>

#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

Status Refuse(const std::string& rule) { return PermissionDeniedError("pre-issuance lint: " + rule); }

bool IsLdhLabel(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

bool IsEmail(std::string_view v) {
  size_t at = v.find('@');
  if (at == 0 || at == std::string_view::npos || v.find('@', at + 1) != std::string_view::npos) return false;
  for (char c : v.substr(0, at)) {
    if (c <= ' ' || c >= 0x7f || c == ',') return false;
  }
  return IsDnsName(v.substr(at + 1));
}

bool IsUri(std::string_view v) {
  size_t colon = v.find(':');
  if (colon == 0 || colon == std::string_view::npos || !std::isalpha(static_cast<unsigned char>(v[0]))) return false;
  for (char c : v) {
    if (c <= ' ' || c >= 0x7f || c == ',') return false;
  }
  return true;
}

// RFC 5280 Appendix A upper bounds (ub-common-name 64, ub-organization-name
// 64, ub-serial-number 64, ...); countryName is two letters (ISO 3166).
Status LintSubject(const std::vector<SubjectEntry>& subject) {
  for (const SubjectEntry& e : subject) {
    if (e.field == "C") {
      if (e.value.size() != 2 || !std::isupper(static_cast<unsigned char>(e.value[0])) ||
          !std::isupper(static_cast<unsigned char>(e.value[1]))) {
        return Refuse("countryName must be two upper-case letters");
      }
    } else if (e.value.size() > 64) {
      return Refuse("subject attribute " + e.field + " exceeds 64 characters (RFC 5280 Appendix A)");
    }
  }
  return OkStatus();
}

Status LintSans(const std::vector<x509::SanEntry>& sans) {
  for (const x509::SanEntry& san : sans) {
    switch (san.kind) {
      case x509::SanEntry::Kind::kDns:
        if (!IsDnsName(san.value)) return Refuse("subjectAltName DNS:" + san.value + " is not a valid host name");
        break;
      case x509::SanEntry::Kind::kEmail:
        if (!IsEmail(san.value)) return Refuse("subjectAltName email:" + san.value + " is not a mailbox");
        break;
      case x509::SanEntry::Kind::kUri:
        if (!IsUri(san.value)) return Refuse("subjectAltName URI:" + san.value + " is not an absolute URI");
        break;
      case x509::SanEntry::Kind::kIp:
        break;
      default:
        return Refuse("unknown subjectAltName kind");
    }
  }
  return OkStatus();
}

Status LintKey(const EVP_PKEY* key) {
  if (key == nullptr) return Refuse("no public key");
  if (EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bits(key) < 2048) return Refuse("RSA keys must be at least 2048 bits");
  if (EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_bits(key) < 256) return Refuse("EC keys must be at least 256 bits");
  return OkStatus();
}

}  // namespace

bool IsDnsName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  if (name.starts_with("*.")) name.remove_prefix(2);
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    std::string_view label = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!IsLdhLabel(label)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

Status LintRequest(const Profile& profile, const std::vector<SubjectEntry>& subject,
                   const std::vector<x509::SanEntry>& sans, const EVP_PKEY* key) {
  if (subject.empty() && sans.empty()) return Refuse("a certificate needs a subject or a subjectAltName (RFC 5280 4.1.2.6)");
  CV_RETURN_IF_ERROR(LintSubject(subject));
  CV_RETURN_IF_ERROR(LintSans(sans));
  return LintKey(key);
}

Status LintCertificate(X509* cert, X509* issuer) {
  if (X509_get_version(cert) != X509_VERSION_3) return Refuse("version must be v3");
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  if (serial == nullptr || ASN1_STRING_length(serial) < 1 || ASN1_STRING_length(serial) > 20 ||
      ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER) {
    return Refuse("serial must be positive and at most 20 octets (RFC 5280 4.1.2.2)");
  }
  if (ASN1_TIME_compare(X509_get0_notBefore(cert), X509_get0_notAfter(cert)) >= 0) {
    return Refuse("notAfter must be after notBefore");
  }
  X509* signer = issuer != nullptr ? issuer : cert;
  if (X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(signer)) != 0) {
    return Refuse("issuer name must equal the CA subject (RFC 5280 4.1.2.4)");
  }
  if (X509_get_ext_by_NID(cert, NID_authority_key_identifier, -1) < 0 ||
      X509_get_ext_by_NID(cert, NID_subject_key_identifier, -1) < 0 ||
      X509_get_ext_by_NID(cert, NID_basic_constraints, -1) < 0 || X509_get_ext_by_NID(cert, NID_key_usage, -1) < 0) {
    return Refuse("AKI, SKI, basicConstraints and keyUsage are required (RFC 5280 4.2.1)");
  }
  for (int i = 0; i < X509_get_ext_count(cert); ++i) {
    int nid = OBJ_obj2nid(X509_EXTENSION_get_object(X509_get_ext(cert, i)));
    if (X509_get_ext_by_NID(cert, nid, i) >= 0) return Refuse("an extension appears twice (RFC 5280 4.2)");
  }
  return OkStatus();
}

}  // namespace certvault::ca
