// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/policy/policy_violation.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ca/policy/policy_check.h"

namespace certvault::ca {
namespace {

TEST(PolicyViolationTest, RuleIsTakenFromThePolicyRefusal) {
  Policy policy;
  Status csr = CheckCsrKeyType(&policy, "rsa-2048");
  ASSERT_FALSE(csr.ok());
  EXPECT_EQ(PolicyRuleOf(csr, "?"), "[algorithms] allowed_key_types, min_rsa_bits = 3072");
  CaConfig cfg;
  cfg.issuing_days = policy.max_issuing_cert_days + 1;
  Status config = CheckConfigAgainstPolicy(policy, cfg);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(PolicyRuleOf(config, "?"), "[crypto_periods] max_issuing_cert_days = 3650");
  EXPECT_EQ(PolicyRuleOf(FailedPreconditionError("usage period ended"), "fallback"), "fallback");
}

TEST(PolicyViolationTest, EventIsItsOwnActionWithTheRule) {
  AuditActor actor("alice (operator)");
  Status refused = PermissionDeniedError("policy: key type rsa-2048 is not allowed");
  AuditEvent e = PolicyViolationEvent(actor, "factory-issuing", "d1.csr", "[algorithms] allowed_key_types", refused);
  EXPECT_EQ(e.action, "policy-violation");
  EXPECT_EQ(e.object, "d1.csr");
  EXPECT_EQ(e.detail, "rule: [algorithms] allowed_key_types; policy: key type rsa-2048 is not allowed");
  EXPECT_EQ(e.result, StatusCodeName(StatusCode::kPermissionDenied));
}

TEST(PolicyViolationTest, AlertCarriesKindAndRule) {
  char tmpl[] = "/tmp/cv-violation-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string out = std::string(tmpl) + "/alert.txt";
  AuditConfig cfg;
  cfg.alert_command = "printf '%s|%s' \"$CV_ALERT_KIND\" \"$CV_ALERT_DETAIL\" > " + out;
  ASSERT_TRUE(AlertPolicyViolation(cfg, AuditActor("est"), "factory", "[certificates] max_leaf_validity_days",
                                   FailedPreconditionError("too long"))
                  .ok());
  std::ifstream in(out);
  std::stringstream got;
  got << in.rdbuf();
  EXPECT_EQ(got.str(), "policy-violation|rule: [certificates] max_leaf_validity_days; too long");
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace certvault::ca
