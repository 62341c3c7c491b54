// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The policy report of `certvault-ca policy report` (docs/design/policy.md):
// a checklist of NIST SP 800-130 / CRYPTREC key-management framework items
// (areas A, E, F) that map to settings, each with the configured value, how
// it is enforced (setting and component) and its live status; an inventory
// of component versions; and an RFC 3647 CP/CPS skeleton filled from the
// configuration. Building is separate from rendering so that tests can
// check both; rendering escapes every value for HTML.
#ifndef CERTVAULT_CA_POLICY_POLICY_REPORT_H_
#define CERTVAULT_CA_POLICY_POLICY_REPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "ca/config/ca_config.h"

namespace certvault::ca {

// LiveStatus: what the caller measured on the live instance; each field is
// display text ("" = unknown).
struct LiveStatus {
  std::string selftest;      // e.g. "passed (12 tests, at the start of this command)"
  std::string time_offset;   // e.g. "+0 s from ntp://127.0.0.1:123" or the error
  std::string crl_number;    // the issuing CA's last full CRL number
  std::string certificates;  // count issued by the issuing CA
  std::string last_audit;    // the latest audit event
  std::string audit_verify;  // the audit chain checked now: "ok: ..." or "BROKEN ..."
  std::string generated_at;  // ISO 8601 UTC
};

struct ReportItem {
  std::string id;  // framework item, e.g. "A.01-A.05"
  std::string title;
  std::string value;        // the configured value
  std::string enforcement;  // setting + component, or "not enforced yet"
  std::string status;       // live status
};

struct PolicyReport {
  std::string title;
  std::vector<ReportItem> items;
  std::vector<std::pair<std::string, std::string>> inventory;  // component, version
  std::vector<std::pair<std::string, std::string>> cps;        // RFC 3647 section, text
};

// BuildReport: cfg.policy may be null (then each policy item says so).
PolicyReport BuildReport(const CaConfig& cfg, const LiveStatus& live);
// ComponentVersions: certvault, OpenSSL, SQLite, libpq (and the database
// kind in use), OS (PRETTY_NAME of `os_release`, normally /etc/os-release).
std::vector<std::pair<std::string, std::string>> ComponentVersions(const CaConfig& cfg, const std::string& os_release);
std::string RenderMarkdown(const PolicyReport& report);
std::string RenderHtml(const PolicyReport& report);
// HtmlEscape: & < > " ' as character references.
std::string HtmlEscape(const std::string& text);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_POLICY_POLICY_REPORT_H_
