// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// NameConstraintSet: the issuing CA certificate's nameConstraints (RFC 5280
// §4.2.1.10), read once from the certificate, so that every name of a new
// certificate is checked before it is signed, whatever the profile says: a
// profile without san_dns_suffixes must not issue DNS:evil.example.org under
// a CA constrained to devices.example.com (relying parties would reject it;
// some would not). A subject CN that looks like a DNS name is checked as a
// dNSName too (as browsers and OpenSSL's NAME_CONSTRAINTS_check_CN do).
#ifndef CERTVAULT_CA_ISSUANCE_NAME_CONSTRAINTS_H_
#define CERTVAULT_CA_ISSUANCE_NAME_CONSTRAINTS_H_

#include <openssl/x509.h>

#include <string>
#include <vector>

#include "ca/profile/profile.h"
#include "src/base/result.h"

namespace certvault::ca {

struct NameSubtrees {
  std::vector<std::string> dns;    // "example.com" (RFC form) or ".example.com" (subdomains only)
  std::vector<std::string> email;  // a mailbox, a host, or ".domain"
  std::vector<std::string> uri;    // a host or ".domain"
  std::vector<Bytes> ip;           // address || mask (8 or 32 octets)
  bool empty() const { return dns.empty() && email.empty() && uri.empty() && ip.empty(); }
};

struct NameConstraintSet {
  NameSubtrees permitted;
  NameSubtrees excluded;
};

// NameConstraintsOf: `ca_cert`'s nameConstraints (empty sets when it has
// none). kInvalidArgument for an undecodable extension.
Result<NameConstraintSet> NameConstraintsOf(X509* ca_cert);

// CheckNameConstraints: kPermissionDenied naming the first name outside the
// permitted subtrees of its type (when there are any) or inside an excluded
// one. Names: every SAN, and each CN that looks like a DNS name.
Status CheckNameConstraints(const NameConstraintSet& nc, const std::vector<SubjectEntry>& subject,
                            const std::vector<x509::SanEntry>& sans);

// LooksLikeDnsName: letters, digits, '-', '*' and at least one inner '.'.
bool LooksLikeDnsName(std::string_view name);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_ISSUANCE_NAME_CONSTRAINTS_H_
