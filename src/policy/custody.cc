// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/policy/custody.h"

#include <algorithm>
#include <ctime>

namespace certvault::kmpolicy {
namespace {

std::string KofN(uint32_t k, uint32_t n) { return std::to_string(k) + "-of-" + std::to_string(n); }

std::string UtcText(int64_t t) {
  char buf[32];
  time_t tt = static_cast<time_t>(t);
  struct tm tm_v;
  gmtime_r(&tt, &tm_v);
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm_v);
  return buf;
}

Finding QuorumFinding(const Policy& p, const TokenCustody& t) {
  const std::string want = "[quorum] k = " + std::to_string(p.quorum_k) + ", n = " + std::to_string(p.quorum_n);
  if (!t.quorum_k) {
    if (p.quorum_k <= 1 && p.quorum_n <= 1) return {"[quorum]", true, "no quorum, and the policy asks for none"};
    return {"[quorum]", false, "the token has no quorum of custodians; the policy asks for " + want};
  }
  Status st = CheckQuorum(p, *t.quorum_k, t.quorum_n);
  if (!st.ok()) return {"[quorum]", false, std::string(st.message())};
  return {"[quorum]", true, KofN(*t.quorum_k, t.quorum_n) + " quorum meets " + want};
}

Finding BackupFinding(const Policy& p, const TokenCustody& t, int64_t now) {
  if (!p.backup_required) return {"[backup]", true, "not required"};
  const int64_t max_age = static_cast<int64_t>(p.backup_max_interval_hours) * 3600;
  const std::string rule = "[backup] required, max_interval_hours = " + std::to_string(p.backup_max_interval_hours);
  if (!t.last_backup_unix) return {"[backup]", false, "no backup of the token was ever made; " + rule};
  if (now - *t.last_backup_unix > max_age) {
    return {"[backup]", false, "the last backup, " + UtcText(*t.last_backup_unix) + ", is older than " + rule};
  }
  // certvault backups are always encrypted (docs/formats/backup.md); where
  // the copies are kept is outside the vault, so `copies` is not checked.
  return {"[backup]", true, "last backup " + UtcText(*t.last_backup_unix) + " (encrypted; copies not checked)"};
}

Finding AuditFinding(const Policy& p, const TokenCustody& t) {
  if (p.audited_events.empty()) return {"[audit]", true, "no events required"};
  if (!t.event_log) return {"[audit]", false, "the token keeps no event log; the policy's [audit] events need one"};
  return {"[audit]", true, "events recorded in the token's hash-chained event log"};
}

}  // namespace

Status CheckQuorum(const Policy& policy, uint32_t k, uint32_t n) {
  if (k >= policy.quorum_k && n >= policy.quorum_n) return OkStatus();
  return PermissionDeniedError("a " + KofN(k, n) + " quorum is weaker than the policy " + policy.name +
                               " allows ([quorum] k = " + std::to_string(policy.quorum_k) + ", n = " +
                               std::to_string(policy.quorum_n) + ": at least k approvals of at least n custodians)");
}

std::vector<Finding> CheckCustody(const Policy& policy, const TokenCustody& token, int64_t now_unix) {
  return {QuorumFinding(policy, token), BackupFinding(policy, token, now_unix), AuditFinding(policy, token)};
}

bool AllOk(const std::vector<Finding>& findings) {
  return std::all_of(findings.begin(), findings.end(), [](const Finding& f) { return f.ok; });
}

}  // namespace certvault::kmpolicy
