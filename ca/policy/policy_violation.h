// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Policy violations (issue 17, "The policy as data"): a request that
// certvault-ca refuses because it contradicts the key-management policy
// (policy.toml: key types and sizes, crypto-periods, validity limits) is
// audited as its own action, "policy-violation", naming the rule, and raises
// an alert of kind "policy-violation" through [audit.alert] like user and
// role changes (ca/audit/audit_alert.h). Other refusals stay "refuse".
#ifndef CERTVAULT_CA_POLICY_POLICY_VIOLATION_H_
#define CERTVAULT_CA_POLICY_POLICY_VIOLATION_H_

#include <string>

#include "ca/config/ca_config.h"
#include "ca/db/cert_db.h"
#include "src/base/status.h"

namespace certvault::ca {

inline constexpr char kPolicyViolationAction[] = "policy-violation";

// PolicyRuleOf: the rule a policy refusal names: the text after
// "policy.toml " in `refusal`'s message (the form of every refusal of
// policy_check.h), else `fallback`.
std::string PolicyRuleOf(const Status& refusal, const std::string& fallback);

// PolicyViolationEvent: the audit record of `refusal` of the request
// `object` (a CSR's source, "issue", "rollover", "ca.toml"): action
// "policy-violation", detail "rule: RULE; MESSAGE", result the code name.
AuditEvent PolicyViolationEvent(const AuditActor& actor, const std::string& ca, const std::string& object,
                                const std::string& rule, const Status& refusal);

// AlertPolicyViolation: raises the "policy-violation" alert (RaiseAlert:
// every channel runs; the first failure is returned for logging and never
// changes the refusal).
Status AlertPolicyViolation(const AuditConfig& alerts, const AuditActor& actor, const std::string& ca,
                            const std::string& rule, const Status& refusal);

// RecordPolicyViolation: PolicyViolationEvent appended to `db`, then the
// alert. The append's failure is returned; the alert's is not.
Status RecordPolicyViolation(CertDb& db, const AuditConfig& alerts, const AuditActor& actor, const std::string& ca,
                             const std::string& object, const std::string& rule, const Status& refusal);

// IsPolicyContradiction: `status` is the refusal of a ca.toml that
// contradicts the policy (CheckConfigAgainstPolicy: kFailedPrecondition
// "configuration contradicts policy: ..."), not another load error (an
// unreadable or malformed policy file, a missing ca.toml).
bool IsPolicyContradiction(const Status& status);

// RecordRefusedStart: a command (`object`: "issue", "rollover", ...) that
// does not start because DIR/ca.toml contradicts the policy (`refusal`,
// IsPolicyContradiction) is recorded as a policy violation in the instance's
// database, with ca.toml's [audit.alert], by `actor`; the rule is the one
// `refusal` names. kNotFound, nothing recorded, when the database does not
// exist (before init: nothing is created for a refused start); other errors
// of reading ca.toml or opening the database are returned as they are.
Status RecordRefusedStart(const std::string& dir, const AuditActor& actor, const std::string& object,
                          const Status& refusal);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_POLICY_POLICY_VIOLATION_H_
