// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "ca/config/ca_config.h"
#include "ca/config/ca_setup.h"
#include "ca/server/admin_service.h"

namespace certvault::ca {
namespace {

CaConfig Base() {
  SetupOptions o;
  o.name = "factory";
  o.token_module = "/usr/lib/softhsm/libsofthsm2.so";
  o.token_label = "ca";
  o.pin_file = "pin.txt";
  Result<std::string> text = RenderConfig(o, ShippedProfiles(), "/srv/ca");
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  Result<CaConfig> cfg = ParseConfig(text.ok() ? *text : "", "/srv/ca");
  EXPECT_TRUE(cfg.ok()) << cfg.status().ToString();
  return cfg.ok() ? *cfg : CaConfig{};
}

TEST(AdminConfigChange, ProfilesAndSettingsMayChange) {
  const CaConfig now = Base();
  CaConfig next = now;
  next.profiles.erase("server");
  next.profiles["lab"] = now.profiles.at("device");
  next.crl_next_update_hours = 24;
  next.ocsp_validity_minutes = 5;
  next.sign_threads = 4;
  next.audit.alert_command = "logger";
  EXPECT_TRUE(CheckConfigChange(now, next).ok());
}

// Each of these binds the CA's keys, certificates or database: a change is
// refused and named.
TEST(AdminConfigChange, WhatTheCaIsBoundToMayNot) {
  const CaConfig now = Base();
  const std::vector<std::pair<std::string, std::function<void(CaConfig&)>>> changes = {
      {"[ca] name", [](CaConfig& c) { c.name = "other"; }},
      {"[ca] root_subject", [](CaConfig& c) { c.root_subject = "/CN=Other Root"; }},
      {"[ca] issuing_subject", [](CaConfig& c) { c.issuing_subject = "/CN=Other Issuing"; }},
      {"[ca] key_algorithm", [](CaConfig& c) { c.key_algorithm = KeyAlgorithm::kEcP384; }},
      {"[ca] signature_algorithm",
       [](CaConfig& c) { c.signature_algorithm = x509::SignatureAlgorithm::kRsaPssSha256; }},
      {"[ca] database", [](CaConfig& c) { c.database = "postgresql://ca@db/ca"; }},
      {"[ca] policy", [](CaConfig& c) { c.policy_file = "weaker-policy.toml"; }},
      {"[token]", [](CaConfig& c) { c.token.module = "/tmp/other.so"; }},
      {"[token]", [](CaConfig& c) { c.token.label = "other"; }},
      {"[token]", [](CaConfig& c) { c.token.pin_file = "/tmp/pin"; }},
      {"[token]", [](CaConfig& c) { c.token.pin_env = "PIN"; }},
  };
  for (const auto& [what, change] : changes) {
    CaConfig next = now;
    change(next);
    Status st = CheckConfigChange(now, next);
    EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << what;
    EXPECT_NE(std::string(st.message()).find(what), std::string::npos) << st.message();
  }
}

}  // namespace
}  // namespace certvault::ca
