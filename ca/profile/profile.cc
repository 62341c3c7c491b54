// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/profile/profile.h"

#include <openssl/objects.h>

#include <algorithm>
#include <cctype>

#include "src/base/status_macros.h"
#include "src/provision/provision.h"

namespace certvault::ca {
namespace {

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::string_view SanTypeName(x509::SanEntry::Kind kind) {
  switch (kind) {
    case x509::SanEntry::Kind::kDns: return "DNS";
    case x509::SanEntry::Kind::kIp: return "IP";
    case x509::SanEntry::Kind::kEmail: return "email";
    case x509::SanEntry::Kind::kUri: return "URI";
    default: return "unknown";
  }
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// DnsAllowed: a suffix ".example.com" admits any name below it; a suffix
// without the leading dot admits exactly that name.
std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// DnsAllowed: DNS names compare without case (RFC 4343).
bool DnsAllowed(const Profile& profile, std::string_view mixed_case_name) {
  if (profile.san_dns_suffixes.empty()) return true;
  std::string name = Lower(mixed_case_name);
  for (const std::string& mixed_case_suffix : profile.san_dns_suffixes) {
    std::string suffix = Lower(mixed_case_suffix);
    if (suffix.starts_with('.') ? (EndsWith(name, suffix) && name.size() > suffix.size()) : name == suffix) {
      return true;
    }
  }
  return false;
}

Status CheckSans(const Profile& profile, const std::vector<x509::SanEntry>& sans) {
  if (sans.size() > profile.max_sans) {
    return PermissionDeniedError("CSR asks for " + std::to_string(sans.size()) + " subjectAltNames; profile '" +
                                 profile.name + "' allows " + std::to_string(profile.max_sans));
  }
  if (profile.require_san && sans.empty()) {
    return PermissionDeniedError("profile '" + profile.name + "' requires a subjectAltName");
  }
  for (const x509::SanEntry& san : sans) {
    std::string_view type = SanTypeName(san.kind);
    if (!Contains(profile.san_types, type)) {
      return PermissionDeniedError("subjectAltName type " + std::string(type) + " is not allowed by profile '" +
                                   profile.name + "'");
    }
    if (san.kind == x509::SanEntry::Kind::kDns && san.value.starts_with("*") && !profile.allow_wildcards) {
      return PermissionDeniedError("wildcard subjectAltName DNS:" + san.value + " is not allowed by profile '" +
                                   profile.name + "' (allow_wildcards)");
    }
    if (san.kind == x509::SanEntry::Kind::kDns && !DnsAllowed(profile, san.value)) {
      return PermissionDeniedError("subjectAltName DNS:" + san.value + " is outside the names profile '" +
                                   profile.name + "' allows");
    }
  }
  return OkStatus();
}

Result<std::vector<SubjectEntry>> ApproveSubject(const Profile& profile, const std::vector<SubjectEntry>& subject) {
  std::vector<SubjectEntry> out;
  for (const SubjectEntry& e : subject) {
    // A fixed attribute with its fixed value is what the CA sets anyway: a
    // renewal CSR carries the current certificate's subject (RFC 7030 §4.2.2).
    bool fixed = std::any_of(profile.subject_fixed.begin(), profile.subject_fixed.end(),
                             [&](const auto& f) { return f.first == e.field && f.second == e.value; });
    if (fixed) continue;
    if (!Contains(profile.subject_allowed, e.field)) {
      return PermissionDeniedError("subject attribute " + e.field + " is not allowed by profile '" + profile.name + "'");
    }
    if (e.field == "CN" && e.value.find('*') != std::string::npos && !profile.allow_wildcards) {
      return PermissionDeniedError("wildcard subject CN=" + e.value + " is not allowed by profile '" + profile.name +
                                   "' (allow_wildcards)");
    }
    out.push_back(e);
  }
  for (const std::string& req : profile.subject_required) {
    bool found = std::any_of(out.begin(), out.end(), [&](const SubjectEntry& e) { return e.field == req; });
    if (!found) return PermissionDeniedError("subject attribute " + req + " is required by profile '" + profile.name + "'");
  }
  for (const auto& [field, value] : profile.subject_fixed) out.push_back({field, value});
  return out;
}

std::string SanKey(const x509::SanEntry& san) {
  bool fold = san.kind == x509::SanEntry::Kind::kDns || san.kind == x509::SanEntry::Kind::kEmail;
  return std::to_string(static_cast<int>(san.kind)) + ":" + (fold ? Lower(san.value) : san.value);
}

// WithoutRepeats: the first of each name, in order.
std::vector<x509::SanEntry> WithoutRepeats(const std::vector<x509::SanEntry>& sans) {
  std::vector<x509::SanEntry> out;
  std::vector<std::string> seen;
  for (const x509::SanEntry& san : sans) {
    std::string key = SanKey(san);
    if (Contains(seen, key)) continue;
    seen.push_back(std::move(key));
    out.push_back(san);
  }
  return out;
}

// CheckKeyUsageFitsKeys: RFC 8410 §5 (Ed25519: digitalSignature,
// nonRepudiation, keyCertSign, cRLSign only), RFC 3279 §2.3.1 (RSA: no
// keyAgreement), RFC 5480 §3 (EC: no keyEncipherment or dataEncipherment).
Status CheckKeyUsageFitsKeys(const Profile& profile, const std::string& where) {
  for (const std::string& alg : profile.key_algorithms) {
    for (const std::string& ku : profile.key_usage) {
      bool bad = false;
      if (alg == "ed25519" || alg == "ed448") {
        bad = ku != "digitalSignature" && ku != "nonRepudiation" && ku != "keyCertSign" && ku != "cRLSign";
      } else if (alg.starts_with("rsa-")) {
        bad = ku == "keyAgreement" || ku == "encipherOnly" || ku == "decipherOnly";
      } else if (alg.starts_with("ec-")) {
        bad = ku == "keyEncipherment" || ku == "dataEncipherment";
      }
      if (bad) return InvalidArgumentError(where + "key usage " + ku + " is not valid for " + alg + " keys");
    }
  }
  return OkStatus();
}

}  // namespace

Result<Approved> CheckAgainstProfile(const Profile& profile, const CsrContent& csr) {
  if (!Contains(profile.key_algorithms, csr.key_algorithm)) {
    return PermissionDeniedError("public key type " + csr.key_algorithm + " is not allowed by profile '" +
                                 profile.name + "'");
  }
  Approved approved;
  CV_ASSIGN_OR_RETURN(approved.subject, ApproveSubject(profile, csr.subject));
  CV_RETURN_IF_ERROR(CheckSans(profile, csr.sans));
  approved.sans = WithoutRepeats(csr.sans);
  return approved;
}

Status ValidateProfile(const Profile& profile) {
  static const std::vector<std::string> kKeyUsages = {
      "digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement",
      "keyCertSign",      "cRLSign",        "encipherOnly",    "decipherOnly"};
  static const std::vector<std::string> kSanTypes = {"DNS", "IP", "email", "URI"};
  std::string where = "profile '" + profile.name + "': ";
  if (profile.days < 1 || profile.days > 36500) return InvalidArgumentError(where + "days must be 1..36500");
  if (profile.key_usage.empty()) return InvalidArgumentError(where + "key_usage must not be empty");
  if (profile.require_attestation && profile.attestation_roots.empty()) {
    return InvalidArgumentError(where + "require_attestation needs attestation_roots");
  }
  for (const std::string& ku : profile.key_usage) {
    if (!Contains(kKeyUsages, ku)) return InvalidArgumentError(where + "unknown key usage " + ku);
  }
  CV_RETURN_IF_ERROR(provision::GetNids().status());  // names certvault's own EKUs (cvVaultIdentity, ...)
  for (const std::string& eku : profile.extended_key_usage) {
    if (OBJ_txt2nid(eku.c_str()) == NID_undef) return InvalidArgumentError(where + "unknown extended key usage " + eku);
  }
  for (const std::string& oid : profile.policies) {
    ASN1_OBJECT* obj = OBJ_txt2obj(oid.c_str(), 1);
    if (obj == nullptr) return InvalidArgumentError(where + "bad policy OID " + oid);
    ASN1_OBJECT_free(obj);
  }
  for (const std::string& t : profile.san_types) {
    if (!Contains(kSanTypes, t)) return InvalidArgumentError(where + "unknown SAN type " + t);
  }
  for (const std::string& f : profile.subject_allowed) {
    if (OBJ_txt2nid(f.c_str()) == NID_undef) return InvalidArgumentError(where + "unknown subject attribute " + f);
  }
  CV_RETURN_IF_ERROR(CheckKeyUsageFitsKeys(profile, where));
  bool cert_sign = Contains(profile.key_usage, "keyCertSign");
  if (cert_sign != profile.is_ca) {
    return InvalidArgumentError(where + "keyCertSign must be set exactly when is_ca is true (RFC 5280 4.2.1.3)");
  }
  // The only internal profile is the delegated OCSP signer's (RFC 6960
  // §4.2.2.2: "id-kp-OCSPSigning ... in an extended key usage extension").
  bool ocsp_signer = profile.name == "ocsp" && !profile.is_ca && Contains(profile.extended_key_usage, "OCSPSigning");
  if (profile.internal && !ocsp_signer) {
    return InvalidArgumentError(where + "internal = true is only for profile 'ocsp' (the OCSP signer: "
                                "extended_key_usage OCSPSigning, not a CA)");
  }
  return OkStatus();
}

}  // namespace certvault::ca
