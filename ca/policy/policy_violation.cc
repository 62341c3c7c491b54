// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/policy/policy_violation.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "ca/audit/audit_alert.h"
#include "ca/instance/generations.h"
#include "src/base/status_macros.h"

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

bool IsPolicyContradiction(const Status& status) {
  return status.code() == StatusCode::kFailedPrecondition &&
         std::string_view(status.message()).starts_with("configuration contradicts policy: ");
}

Status RecordRefusedStart(const std::string& dir, const AuditActor& actor, const std::string& object,
                          const Status& refusal) {
  std::ifstream in(dir + "/ca.toml");
  if (!in) return NotFoundError("no ca.toml in " + dir);
  std::stringstream text;
  text << in.rdbuf();
  // ParseConfig does not apply the policy: the contradicting ca.toml still
  // names the database and the alert channels the record needs.
  CV_ASSIGN_OR_RETURN(CaConfig cfg, ParseConfig(text.str(), dir));
  if (cfg.database.starts_with("sqlite:") && ::access(cfg.database.c_str() + 7, F_OK) != 0) {
    return NotFoundError("no database yet");  // before init
  }
  CV_ASSIGN_OR_RETURN(std::unique_ptr<CertDb> db, OpenCertDb(cfg.database, {false, cfg.name}));
  CV_ASSIGN_OR_RETURN(KeyGenerations gens, LoadGenerations(dir));
  std::string ca = cfg.name + "-issuing" + GenerationSuffix(gens.issuing);  // CaInstance::Name(kIssuing)
  return RecordPolicyViolation(*db, cfg.audit, actor, ca, object, PolicyRuleOf(refusal, "policy.toml"), refusal);
}

}  // namespace certvault::ca
