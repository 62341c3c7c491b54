// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Custody checks: policy.toml's [quorum], [backup] and [audit] rules
// (src/policy/policy.h) applied to what a vault token has: its k-of-n
// quorum of custodians (docs/design/quorum.md), its last backup and its
// event log. Pure functions of their arguments (the caller gathers the
// facts and passes the time); thread-safe. docs/design/policy.md, "Custody".
#ifndef CERTVAULT_POLICY_CUSTODY_H_
#define CERTVAULT_POLICY_CUSTODY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "src/base/status.h"
#include "src/policy/policy.h"

namespace certvault::kmpolicy {

// CheckQuorum: OK when a k-of-n quorum is at least as strong as [quorum]:
// at least quorum_k approvals (fewer lets fewer people act) among at least
// quorum_n custodians (fewer leaves less room for lost custodians).
// kPermissionDenied naming the rule otherwise (refused by policy).
Status CheckQuorum(const Policy& policy, uint32_t k, uint32_t n);

// TokenCustody: the facts about one token that the rules are checked against.
struct TokenCustody {
  std::string token;                 // label, for the messages
  std::optional<uint32_t> quorum_k;  // nullopt: the token has no quorum
  uint32_t quorum_n = 0;
  bool event_log = true;                    // the token records its events
  std::optional<int64_t> last_backup_unix;  // last successful backup; nullopt: none
};

// Finding: one rule checked for one token.
struct Finding {
  std::string rule;    // "[quorum]", "[backup]", "[audit]"
  bool ok = true;      // false: the token violates the rule
  std::string detail;  // what was found, in words
};

// CheckCustody: one finding per rule, in the order [quorum], [backup],
// [audit]. A policy with k = n = 1 asks for no quorum; [backup] required =
// false asks for no backup; an empty [audit] events list for no log.
std::vector<Finding> CheckCustody(const Policy& policy, const TokenCustody& token, int64_t now_unix);

// AllOk: no finding is a violation.
bool AllOk(const std::vector<Finding>& findings);

}  // namespace certvault::kmpolicy

#endif  // CERTVAULT_POLICY_CUSTODY_H_
