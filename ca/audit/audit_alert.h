// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// AuditAlerts: real-time alerts of the CA ([audit.alert] in ca.toml):
// audit-verify failures, break-glass use, and — through RaiseAlert, for the
// roles/admin code — user, role and ACL changes. Each configured channel
// runs synchronously when the alert is raised: a command (/bin/sh -c, with
// CV_ALERT_KIND, CV_ALERT_ACTOR, CV_ALERT_CA, CV_ALERT_DETAIL, CV_ALERT_JSON in
// its environment), a syslog message at the configured priority, an HTTP
// POST of the JSON to a webhook (http:// only, 5 s timeout). A failing
// channel never fails the operation that raised the alert; Raise returns it.
// Thread-safe.
#ifndef CERTVAULT_CA_AUDIT_AUDIT_ALERT_H_
#define CERTVAULT_CA_AUDIT_AUDIT_ALERT_H_

#include <string>

#include "ca/config/ca_config.h"
#include "ca/db/cert_db.h"

namespace certvault::ca {

struct Alert {
  std::string kind;  // "audit-verify-failed", "break-glass", "user-change", "role-change", "acl-change", ...
  AuditActor actor;
  std::string ca;
  std::string detail;
  int64_t at = 0;  // 0 = now
};

// JsonString: `s` as a JSON string literal (quotes, backslashes and control
// characters escaped); also used by `certvault-ca audit export`.
std::string JsonString(const std::string& s);

// AuditRecordJson: one audit record as a JSON object (a line of `audit
// export`, on the command line and through the admin API).
std::string AuditRecordJson(const AuditEvent& e);

// AlertJson: the alert as one JSON object (the webhook body).
std::string AlertJson(const Alert& alert);

// RaiseAlert: runs every channel of `config`; the first failure (after all
// channels ran) is returned for logging. OK when no channel is configured.
Status RaiseAlert(const AuditConfig& config, const Alert& alert);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_AUDIT_AUDIT_ALERT_H_
