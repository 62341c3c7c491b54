// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/policy/policy.h"

#include <gtest/gtest.h>

#include "ca/policy/policy_check.h"

namespace certvault::ca {
namespace {

constexpr char kPolicy[] = R"(
[policy]
name = "Example PKI key-management policy"
version = "2"
[algorithms]
allowed_key_types = ["ec-p256", "ec-p384", "rsa-3072"]
min_rsa_bits = 3072
[crypto_periods]
max_root_key_days = 7300
max_issuing_key_usage_days = 1095
max_issuing_cert_days = 3650
[certificates]
max_leaf_validity_days = 398
[pin]
min_length = 10
[time]
max_clock_offset_seconds = 5
[roles]
names = ["ca-admin", "auditor"]
separate = ["ca-admin/auditor"]
[quorum]
k = 2
n = 3
[backup]
copies = 3
)";

CaConfig GoodConfig() {
  CaConfig cfg;
  cfg.issuing_subject = "/CN=Issuing";
  cfg.root_subject = "/CN=Root";
  cfg.issuing_key_usage_days = 1000;
  cfg.max_clock_skew_seconds = 5;
  Profile device;
  device.name = "device";
  device.days = 365;
  device.key_algorithms = {"ec-p256", "rsa-3072"};
  cfg.profiles.emplace("device", device);
  return cfg;
}

TEST(Policy, ParsesEveryTable) {
  auto p = ParsePolicy(kPolicy);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->name, "Example PKI key-management policy");
  EXPECT_EQ(p->allowed_key_types.size(), 3u);
  EXPECT_EQ(p->max_issuing_key_usage_days, 1095u);
  EXPECT_EQ(p->pin_min_length, 10u);
  EXPECT_EQ(p->max_clock_offset_seconds, 5u);
  ASSERT_EQ(p->separated.size(), 1u);
  EXPECT_EQ(p->separated[0][1], "auditor");
  EXPECT_EQ(p->quorum_k, 2u);
  EXPECT_EQ(p->backup_copies, 3u);
}

TEST(Policy, EmptyTextIsTheDefaultPolicy) {
  auto p = ParsePolicy("");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->min_rsa_bits, 3072u);
}

void ExpectError(const std::string& text, const std::string& fragment) {
  auto p = ParsePolicy(text);
  ASSERT_FALSE(p.ok()) << text;
  EXPECT_NE(p.status().message().find(fragment), std::string::npos) << p.status().message();
}

TEST(Policy, ErrorsNameTheKey) {
  ExpectError("[algorithms]\nallowed_key_types = [\"ec-p224\"]\n", "[algorithms] allowed_key_types names an unknown");
  ExpectError("[algorithms]\nallowed_key_types = []\n", "at least one");
  ExpectError("[algorithms]\nmin_rsa_bits = 1024\n", "[algorithms] min_rsa_bits must be an integer in 2048..16384");
  ExpectError("[quorum]\nk = 3\nn = 2\n", "[quorum] k must not exceed n");
  ExpectError("[pin]\nmin_lenght = 8\n", "[pin] min_lenght is not a policy key");
  ExpectError("[pins]\n", "unknown table or key \"pins\"");
  ExpectError("name = \"x\"\n", "unknown table");
  ExpectError("[roles]\nnames = [\"a\"]\nseparate = [\"a/b\"]\n", "[roles] separate entry \"a/b\"");
  ExpectError("[time]\nrequire_time_source = 1\n", "must be true or false");
  ExpectError("[policy\n", "policy.toml: ");
}

TEST(Policy, KnownKeyTypes) {
  EXPECT_TRUE(IsKnownKeyType("rsa-2048"));
  EXPECT_TRUE(IsKnownKeyType("ed25519"));
  EXPECT_FALSE(IsKnownKeyType("rsa-1024"));
  EXPECT_FALSE(IsKnownKeyType("rsa-02048"));
  EXPECT_FALSE(IsKnownKeyType("rsa-"));
  EXPECT_FALSE(IsKnownKeyType("rsa-99999"));
}

TEST(PolicyCheck, GoodConfigurationPasses) {
  auto p = ParsePolicy(kPolicy);
  ASSERT_TRUE(p.ok());
  Status s = CheckConfigAgainstPolicy(*p, GoodConfig());
  EXPECT_TRUE(s.ok()) << s.ToString();
}

void ExpectContradiction(const CaConfig& cfg, const std::string& fragment) {
  auto p = ParsePolicy(kPolicy);
  ASSERT_TRUE(p.ok());
  Status s = CheckConfigAgainstPolicy(*p, cfg);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("configuration contradicts policy"), std::string::npos);
  EXPECT_NE(s.message().find(fragment), std::string::npos) << s.message();
}

TEST(PolicyCheck, EachContradictionIsNamed) {
  CaConfig cfg = GoodConfig();
  cfg.profiles["device"].days = 825;
  ExpectContradiction(cfg, "[profiles.device] days = 825");
  cfg = GoodConfig();
  cfg.profiles["device"].key_algorithms.push_back("rsa-2048");
  ExpectContradiction(cfg, "does not allow rsa-2048");
  cfg = GoodConfig();
  cfg.key_algorithm = KeyAlgorithm::kRsa4096;
  ExpectContradiction(cfg, "[ca] key_algorithm");
  cfg = GoodConfig();
  cfg.issuing_key_usage_days = 0;  // effective: issuing_days (3650)
  ExpectContradiction(cfg, "effective 3650");
  cfg = GoodConfig();
  cfg.root_days = 9000;
  ExpectContradiction(cfg, "[ca] root_days");
  cfg = GoodConfig();
  cfg.max_clock_skew_seconds = 10;
  ExpectContradiction(cfg, "max_clock_offset_seconds = 5");
}

TEST(PolicyCheck, RequiredTimeSource) {
  auto p = ParsePolicy("[time]\nrequire_time_source = true\n[algorithms]\nallowed_key_types = [\"ec-p256\"]\n");
  ASSERT_TRUE(p.ok());
  CaConfig cfg = GoodConfig();
  cfg.profiles["device"].key_algorithms = {"ec-p256"};
  cfg.issuing_days = 1000;
  cfg.max_clock_skew_seconds = 10;
  EXPECT_FALSE(CheckConfigAgainstPolicy(*p, cfg).ok());
  cfg.time_source = "ntp://127.0.0.1";
  Status s = CheckConfigAgainstPolicy(*p, cfg);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(PolicyCheck, CsrKeyType) {
  auto p = ParsePolicy(kPolicy);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(CheckCsrKeyType(nullptr, "rsa-1024").ok());
  EXPECT_TRUE(CheckCsrKeyType(&*p, "ec-p384").ok());
  Status s = CheckCsrKeyType(&*p, "rsa-2048");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("key type rsa-2048 is not allowed"), std::string::npos);
  EXPECT_FALSE(CheckCsrKeyType(&*p, "ed25519").ok());
}

}  // namespace
}  // namespace certvault::ca
