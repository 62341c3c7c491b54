// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Pre-issuance lint (RFC 5280 sanity). LintRequest runs before anything is
// built: name syntax (DNS LDH labels, e-mail, URI), attribute length upper
// bounds (RFC 5280 Appendix A ub-*), public key strength. LintCertificate
// runs on the assembled certificate before it is released: version, serial,
// validity, issuer name and the presence of the extensions RFC 5280 requires.
// Failures are kPermissionDenied with the rule in the message.
#ifndef CERTVAULT_CA_ISSUANCE_LINT_H_
#define CERTVAULT_CA_ISSUANCE_LINT_H_

#include <vector>

#include "ca/profile/profile.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::ca {

Status LintRequest(const Profile& profile, const std::vector<SubjectEntry>& subject,
                   const std::vector<x509::SanEntry>& sans, const EVP_PKEY* key);
// LintCertificate: `issuer` is null for a self-signed certificate.
Status LintCertificate(X509* cert, X509* issuer);
// IsDnsName: RFC 1034 §3.5 preferred syntax (LDH labels of 1..63, total
// ≤ 253), optionally with one leading "*." wildcard label.
bool IsDnsName(std::string_view name);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_ISSUANCE_LINT_H_
