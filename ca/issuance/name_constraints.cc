// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/issuance/name_constraints.h"

#include <arpa/inet.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>

#include "src/base/status_macros.h"
#include "src/crypto/ossl_error.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::ossl {
CV_OSSL_DELETER(NAME_CONSTRAINTS, NAME_CONSTRAINTS_free)
}  // namespace certvault::ossl

namespace certvault::ca {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// HostMatches: RFC 5280 §4.2.1.10: a dNSName constraint is satisfied by the
// name itself and by "adding zero or more labels to the left-hand side";
// a constraint with a leading '.' (the form of URI and email constraints,
// and of older CAs' dNSName constraints) by names below it only.
bool HostMatches(std::string_view host, std::string_view constraint) {
  std::string h = Lower(host), c = Lower(constraint);
  if (c.starts_with('.')) return h.size() > c.size() && h.ends_with(c);
  if (h == c) return true;
  return h.size() > c.size() && h.ends_with(c) && h[h.size() - c.size() - 1] == '.';
}

// EmailMatches: a constraint with '@' is one mailbox; otherwise a host
// (exactly) or, with a leading '.', any host below it.
bool EmailMatches(std::string_view mailbox, std::string_view constraint) {
  if (constraint.find('@') != std::string_view::npos) return Lower(mailbox) == Lower(constraint);
  size_t at = mailbox.rfind('@');
  std::string_view host = at == std::string_view::npos ? mailbox : mailbox.substr(at + 1);
  if (constraint.starts_with('.')) return HostMatches(host, constraint);
  return Lower(host) == Lower(constraint);
}

// UriHost: the host of "scheme://[user@]host[:port]/...", or "".
std::string_view UriHost(std::string_view uri) {
  size_t scheme = uri.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view rest = uri.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (rest.starts_with('[')) return rest.substr(0, rest.find(']') + 1);
  return rest.substr(0, rest.find(':'));
}

bool UriMatches(std::string_view uri, std::string_view constraint) {
  std::string_view host = UriHost(uri);
  if (constraint.starts_with('.')) return HostMatches(host, constraint);
  return Lower(host) == Lower(constraint);
}

bool IpMatches(const std::string& text, const Bytes& range) {
  uint8_t addr[16];
  size_t n = 0;
  if (inet_pton(AF_INET, text.c_str(), addr) == 1) {
    n = 4;
  } else if (inet_pton(AF_INET6, text.c_str(), addr) == 1) {
    n = 16;
  }
  if (n == 0 || range.size() != 2 * n) return false;
  for (size_t i = 0; i < n; ++i) {
    if ((addr[i] & range[n + i]) != (range[i] & range[n + i])) return false;
  }
  return true;
}

// Within: `name` of `kind` matches one of `trees`' entries of that kind.
// `out_typed` says whether `trees` has entries of that kind at all.
bool Within(const NameSubtrees& trees, x509::SanEntry::Kind kind, const std::string& name, bool* out_typed) {
  auto any = [&](const auto& list, auto match) {
    *out_typed = !list.empty();
    return std::any_of(list.begin(), list.end(), [&](const auto& c) { return match(name, c); });
  };
  switch (kind) {
    case x509::SanEntry::Kind::kDns: return any(trees.dns, HostMatches);
    case x509::SanEntry::Kind::kEmail: return any(trees.email, EmailMatches);
    case x509::SanEntry::Kind::kUri: return any(trees.uri, UriMatches);
    case x509::SanEntry::Kind::kIp: return any(trees.ip, IpMatches);
    default: *out_typed = true; return false;
  }
}

Status CheckOne(const NameConstraintSet& nc, x509::SanEntry::Kind kind, const std::string& name,
                const std::string& label) {
  bool typed = false;
  if (Within(nc.excluded, kind, name, &typed)) {
    return PermissionDeniedError(label + " is in the issuing CA's excluded names (nameConstraints)");
  }
  if (!Within(nc.permitted, kind, name, &typed) && typed) {
    return PermissionDeniedError(label + " is outside the issuing CA's permitted names (nameConstraints)");
  }
  return OkStatus();
}

Status AddSubtrees(const STACK_OF(GENERAL_SUBTREE)* in, NameSubtrees& out) {
  for (int i = 0; i < sk_GENERAL_SUBTREE_num(in); ++i) {
    const GENERAL_NAME* base = sk_GENERAL_SUBTREE_value(in, i)->base;
    auto text = [](const ASN1_IA5STRING* s) {
      return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
    };
    switch (base->type) {
      case GEN_DNS: out.dns.push_back(text(base->d.dNSName)); break;
      case GEN_EMAIL: out.email.push_back(text(base->d.rfc822Name)); break;
      case GEN_URI: out.uri.push_back(text(base->d.uniformResourceIdentifier)); break;
      case GEN_IPADD: {
        const uint8_t* p = ASN1_STRING_get0_data(base->d.iPAddress);
        out.ip.emplace_back(p, p + ASN1_STRING_length(base->d.iPAddress));
        break;
      }
      default: break;  // directoryName etc.: the CA never asks for them
    }
  }
  return OkStatus();
}

}  // namespace

bool LooksLikeDnsName(std::string_view name) {
  if (name.size() < 3 || name.front() == '.' || name.back() == '.' || name.find('.') == std::string_view::npos) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '*';
  });
}

Result<NameConstraintSet> NameConstraintsOf(X509* ca_cert) {
  NameConstraintSet out;
  int crit = 0;
  ossl::UniquePtr<NAME_CONSTRAINTS> nc(
      static_cast<NAME_CONSTRAINTS*>(X509_get_ext_d2i(ca_cert, NID_name_constraints, &crit, nullptr)));
  if (nc == nullptr) {
    ossl::ClearErrors();
    if (crit == -1) return out;  // absent
    return InvalidArgumentError("the issuing CA certificate's nameConstraints do not decode");
  }
  CV_RETURN_IF_ERROR(AddSubtrees(nc->permittedSubtrees, out.permitted));
  CV_RETURN_IF_ERROR(AddSubtrees(nc->excludedSubtrees, out.excluded));
  return out;
}

Status CheckNameConstraints(const NameConstraintSet& nc, const std::vector<SubjectEntry>& subject,
                            const std::vector<x509::SanEntry>& sans) {
  if (nc.permitted.empty() && nc.excluded.empty()) return OkStatus();
  for (const x509::SanEntry& san : sans) {
    CV_RETURN_IF_ERROR(CheckOne(nc, san.kind, san.value, "subjectAltName " + san.value));
  }
  for (const SubjectEntry& e : subject) {
    if (e.field == "CN" && LooksLikeDnsName(e.value)) {
      CV_RETURN_IF_ERROR(CheckOne(nc, x509::SanEntry::Kind::kDns, e.value, "subject CN=" + e.value));
    }
  }
  return OkStatus();
}

}  // namespace certvault::ca
