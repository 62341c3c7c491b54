// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/profile/profile.h"

#include <gtest/gtest.h>

#include "ca/config/ca_config.h"

namespace certvault::ca {
namespace {

Profile Device() {
  Profile p;
  p.name = "device";
  p.subject_allowed = {"CN", "serialNumber"};
  p.subject_fixed = {{"O", "Example"}};
  p.san_types = {"DNS"};
  p.san_dns_suffixes = {".devices.example.com"};
  p.key_algorithms = {"ec-p256"};
  return p;
}

CsrContent Csr(std::vector<x509::SanEntry> sans, std::string alg = "ec-p256") {
  return CsrContent{{{"CN", "dev"}}, std::move(sans), std::move(alg)};
}

TEST(Profile, ApprovesAndAddsFixedSubject) {
  auto ok = CheckAgainstProfile(Device(), Csr({{x509::SanEntry::Kind::kDns, "a.devices.example.com"}}));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->subject.size(), 2u);
  EXPECT_EQ(ok->subject[1].field, "O");
}

// A renewal CSR carries the current subject, fixed attributes included (RFC
// 7030 §4.2.2): the fixed value is accepted once, another value is not.
TEST(Profile, AcceptsFixedAttributeWithItsValue) {
  CsrContent renewal = Csr({{x509::SanEntry::Kind::kDns, "a.devices.example.com"}});
  renewal.subject.push_back({"O", "Example"});
  auto ok = CheckAgainstProfile(Device(), renewal);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->subject.size(), 2u);
  EXPECT_EQ(ok->subject[1].value, "Example");
  renewal.subject.back().value = "Other";
  EXPECT_EQ(CheckAgainstProfile(Device(), renewal).status().code(), StatusCode::kPermissionDenied);
}

TEST(Profile, RefusesWhatTheProfileForbids) {
  Profile p = Device();
  EXPECT_EQ(CheckAgainstProfile(p, Csr({{x509::SanEntry::Kind::kDns, "evil.example.org"}})).status().code(),
            StatusCode::kPermissionDenied);
  // The suffix itself is not a name below it.
  EXPECT_FALSE(CheckAgainstProfile(p, Csr({{x509::SanEntry::Kind::kDns, ".devices.example.com"}})).ok());
  EXPECT_FALSE(CheckAgainstProfile(p, Csr({{x509::SanEntry::Kind::kDns, "xdevices.example.com"}})).ok());
  EXPECT_FALSE(CheckAgainstProfile(p, Csr({{x509::SanEntry::Kind::kIp, "192.0.2.1"}})).ok());
  EXPECT_FALSE(CheckAgainstProfile(p, Csr({}, "rsa-2048")).ok());
  CsrContent ou = Csr({});
  ou.subject.push_back({"OU", "x"});
  EXPECT_FALSE(CheckAgainstProfile(p, ou).ok());
  CsrContent no_cn{{}, {}, "ec-p256"};
  EXPECT_FALSE(CheckAgainstProfile(p, no_cn).ok());
  p.max_sans = 1;
  EXPECT_FALSE(CheckAgainstProfile(p, Csr({{x509::SanEntry::Kind::kDns, "a.devices.example.com"},
                                           {x509::SanEntry::Kind::kDns, "b.devices.example.com"}}))
                   .ok());
}

TEST(Profile, ValidateCatchesInconsistentProfiles) {
  Profile p = Device();
  EXPECT_TRUE(ValidateProfile(p).ok());
  p.key_usage = {"digitalSignature", "keyCertSign"};
  EXPECT_FALSE(ValidateProfile(p).ok());
  p = Device();
  p.policies = {"not an oid"};
  EXPECT_FALSE(ValidateProfile(p).ok());
  p = Device();
  p.extended_key_usage = {"flyingAuth"};
  EXPECT_FALSE(ValidateProfile(p).ok());
}

constexpr const char* kToml = R"(
[ca]
name = "f"
issuing_subject = "/CN=I"
crl_url = "http://x/crl/full.crl"
[token]
module = "m.so"
label = "t"
pin_env = "CV_TEST_PIN"
[profiles.device]
days = 30
san_types = ["DNS", "IP"]
subject_fixed = { O = "Example" }
)";

TEST(Config, ParsesAndDerivesDefaults) {
  auto cfg = ParseConfig(kToml, "/ca");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->database, "sqlite:/ca/ca.db");
  EXPECT_EQ(cfg->delta_crl_url, "http://x/crl/delta.crl");
  EXPECT_EQ(cfg->selftest_interval_s, 3600u);
  ASSERT_EQ(cfg->profiles.count("device"), 1u);
  EXPECT_EQ(cfg->profiles.at("device").days, 30u);
  EXPECT_EQ(cfg->profiles.at("device").subject_fixed.size(), 1u);
  setenv("CV_TEST_PIN", "1234", 1);
  auto pin = ReadPin(cfg->token);
  ASSERT_TRUE(pin.ok());
  EXPECT_EQ(pin->size(), 4u);
}

TEST(Config, ErrorsNameTheKey) {
  auto bad = ParseConfig("[ca]\nname = 3\n[token]\nmodule=\"m\"\nlabel=\"t\"\n", "/ca");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("name"), std::string::npos);
  EXPECT_FALSE(ParseConfig("[ca", "/ca").ok());
  std::string days(kToml);
  days.replace(days.find("days = 30"), 9, "days = 0");
  EXPECT_FALSE(ParseConfig(days, "/ca").ok());
}

TEST(Config, ServerSelfTestInterval) {
  auto never = ParseConfig(std::string(kToml) + "[server]\nselftest_interval_s = 0\n", "/ca");
  ASSERT_TRUE(never.ok()) << never.status().ToString();
  EXPECT_EQ(never->selftest_interval_s, 0u);
  auto minute = ParseConfig(std::string(kToml) + "[server]\nselftest_interval_s = 60\n", "/ca");
  ASSERT_TRUE(minute.ok()) << minute.status().ToString();
  EXPECT_EQ(minute->selftest_interval_s, 60u);
  for (const char* bad : {"-1", "\"soon\"", "99999999"}) {
    auto r = ParseConfig(std::string(kToml) + "[server]\nselftest_interval_s = " + bad + "\n", "/ca");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(std::string(r.status().message()).find("selftest_interval_s"), std::string::npos);
  }
}

TEST(Profile, WildcardsOnlyWhenAllowedAndRepeatsKeptOnce) {
  Profile p = Device();
  auto star = Csr({{x509::SanEntry::Kind::kDns, "*.devices.example.com"}});
  EXPECT_EQ(CheckAgainstProfile(p, star).status().code(), StatusCode::kPermissionDenied);
  CsrContent star_cn{{{"CN", "*.devices.example.com"}}, {}, "ec-p256"};
  EXPECT_EQ(CheckAgainstProfile(p, star_cn).status().code(), StatusCode::kPermissionDenied);
  p.allow_wildcards = true;
  EXPECT_TRUE(CheckAgainstProfile(p, star).ok());
  auto twice = CheckAgainstProfile(Device(), Csr({{x509::SanEntry::Kind::kDns, "a.devices.example.com"},
                                                  {x509::SanEntry::Kind::kDns, "A.Devices.example.com"},
                                                  {x509::SanEntry::Kind::kDns, "b.devices.example.com"}}));
  ASSERT_TRUE(twice.ok()) << twice.status().ToString();
  ASSERT_EQ(twice->sans.size(), 2u);
  EXPECT_EQ(twice->sans[1].value, "b.devices.example.com");
}

// RFC 3279 §2.3.1, RFC 8410 §5, RFC 5480 §3: key usages a key type cannot have.
TEST(Profile, KeyUsageMustFitEveryKeyAlgorithm) {
  Profile p = Device();
  p.key_usage = {"digitalSignature", "keyAgreement"};
  EXPECT_TRUE(ValidateProfile(p).ok());  // EC keys may agree keys
  p.key_algorithms = {"ec-p256", "rsa-2048"};
  EXPECT_EQ(ValidateProfile(p).code(), StatusCode::kInvalidArgument);
  p.key_algorithms = {"ed25519"};
  EXPECT_EQ(ValidateProfile(p).code(), StatusCode::kInvalidArgument);
  p.key_usage = {"digitalSignature", "keyEncipherment"};
  p.key_algorithms = {"ec-p384"};
  EXPECT_EQ(ValidateProfile(p).code(), StatusCode::kInvalidArgument);
  p.key_algorithms = {"rsa-3072"};
  EXPECT_TRUE(ValidateProfile(p).ok());
}

}  // namespace
}  // namespace certvault::ca
