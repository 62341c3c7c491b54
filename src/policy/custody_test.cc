// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// policy.toml [quorum], [backup] and [audit] against a token's custody
// (issue 17, "The policy as data"): a weaker quorum, a missing or stale
// backup and a token without an event log are each found.
#include "src/policy/custody.h"

#include <gtest/gtest.h>

namespace certvault::kmpolicy {
namespace {

constexpr int64_t kNow = 1796601600;  // 2026-12-07T00:00:00Z

Policy TwoOfThree() {
  Policy p;
  p.quorum_k = 2;
  p.quorum_n = 3;
  p.backup_max_interval_hours = 24;
  return p;
}

TEST(CheckQuorum, AtLeastKApprovalsAmongAtLeastNCustodians) {
  Policy p = TwoOfThree();
  EXPECT_TRUE(CheckQuorum(p, 2, 3).ok());
  EXPECT_TRUE(CheckQuorum(p, 3, 5).ok());
  Status weak = CheckQuorum(p, 1, 3);
  EXPECT_EQ(weak.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(weak.message().find("[quorum] k = 2, n = 3"), std::string::npos) << weak.ToString();
  EXPECT_FALSE(CheckQuorum(p, 2, 2).ok());
}

TEST(CheckCustody, EachRuleIsFoundOrMet) {
  Policy p = TwoOfThree();
  TokenCustody t{"t1", 2, 3, true, kNow - 3600};
  std::vector<Finding> f = CheckCustody(p, t, kNow);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_TRUE(AllOk(f)) << f[0].detail << f[1].detail << f[2].detail;
  EXPECT_EQ(f[0].rule, "[quorum]");

  t.quorum_k.reset();  // no quorum at all
  f = CheckCustody(p, t, kNow);
  EXPECT_FALSE(f[0].ok);
  t.quorum_k = 1;  // weaker
  EXPECT_FALSE(CheckCustody(p, t, kNow)[0].ok);
  t.quorum_k = 2;

  t.last_backup_unix.reset();
  f = CheckCustody(p, t, kNow);
  EXPECT_FALSE(f[1].ok);
  EXPECT_NE(f[1].detail.find("no backup"), std::string::npos) << f[1].detail;
  t.last_backup_unix = kNow - 25 * 3600;  // older than 24 h
  EXPECT_FALSE(CheckCustody(p, t, kNow)[1].ok);
  p.backup_required = false;
  EXPECT_TRUE(CheckCustody(p, t, kNow)[1].ok);

  t.event_log = false;
  EXPECT_FALSE(CheckCustody(p, t, kNow)[2].ok);
  p.audited_events.clear();
  EXPECT_TRUE(CheckCustody(p, t, kNow)[2].ok);
}

TEST(CheckCustody, TheDefaultPolicyAsksForNoQuorum) {
  Policy p;  // k = n = 1
  TokenCustody t{"t1", std::nullopt, 0, true, kNow};
  EXPECT_TRUE(CheckCustody(p, t, kNow)[0].ok);
}

}  // namespace
}  // namespace certvault::kmpolicy
