// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/policy/policy_violation.h"

#include "ca/audit/audit_alert.h"

namespace certvault::ca {
namespace {

std::string Detail(const std::string& rule, const Status& refusal) {
  return "rule: " + rule + "; " + std::string(refusal.message());
}

}  // namespace

std::string PolicyRuleOf(const Status& refusal, const std::string& fallback) {
  constexpr std::string_view kMarker = "policy.toml ";
  std::string_view message = refusal.message();
  size_t at = message.find(kMarker);
  if (at == std::string_view::npos || at + kMarker.size() >= message.size()) return fallback;
  std::string rule(message.substr(at + kMarker.size()));
  if (rule.back() == ')' && rule.find('(') == std::string::npos) rule.pop_back();  // "... (policy.toml RULE)"
  return rule;
}

AuditEvent PolicyViolationEvent(const AuditActor& actor, const std::string& ca, const std::string& object,
                                const std::string& rule, const Status& refusal) {
  return MakeAuditEvent(actor, kPolicyViolationAction, ca, object, Detail(rule, refusal),
                        std::string(StatusCodeName(refusal.code())));
}

Status AlertPolicyViolation(const AuditConfig& alerts, const AuditActor& actor, const std::string& ca,
                            const std::string& rule, const Status& refusal) {
  return RaiseAlert(alerts, Alert{kPolicyViolationAction, actor, ca, Detail(rule, refusal), 0});
}

Status RecordPolicyViolation(CertDb& db, const AuditConfig& alerts, const AuditActor& actor, const std::string& ca,
                             const std::string& object, const std::string& rule, const Status& refusal) {
  Status appended = db.AddAudit(PolicyViolationEvent(actor, ca, object, rule, refusal));
  (void)AlertPolicyViolation(alerts, actor, ca, rule, refusal);  // a failing channel never changes the refusal
  return appended;
}

}  // namespace certvault::ca
