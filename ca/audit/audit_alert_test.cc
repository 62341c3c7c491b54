// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/audit/audit_alert.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace certvault::ca {
namespace {

TEST(AuditAlertTest, CommandGetsTheAlertInItsEnvironment) {
  char tmpl[] = "/tmp/cv-alert-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string out = std::string(tmpl) + "/alert.txt";
  AuditConfig cfg;
  cfg.alert_command = "printf '%s|%s|%s|%s' \"$CV_ALERT_KIND\" \"$CV_ALERT_ACTOR\" \"$CV_ALERT_CA\" \"$CV_ALERT_JSON\" > " + out;
  AuditActor actor{"alice"};
  actor.role = "admin";
  Alert alert{"role-change", actor, "factory", "bob: operator -> \"admin\"", 1796670096};
  ASSERT_TRUE(RaiseAlert(cfg, alert).ok());
  std::ifstream in(out);
  std::stringstream got;
  got << in.rdbuf();
  EXPECT_EQ(got.str(), "role-change|alice|factory|" + AlertJson(alert));
  EXPECT_NE(AlertJson(alert).find("\"detail\":\"bob: operator -> \\\"admin\\\"\""), std::string::npos);
  std::filesystem::remove_all(tmpl);
}

TEST(AuditAlertTest, FailingChannelsAreReportedNotThrown) {
  AuditConfig cfg;
  cfg.alert_command = "exit 3";
  EXPECT_FALSE(RaiseAlert(cfg, Alert{"break-glass", {}, "x", "", 0}).ok());
  cfg.alert_command.clear();
  cfg.alert_webhook = "http://127.0.0.1:1/hook";  // nothing listens on port 1
  EXPECT_FALSE(RaiseAlert(cfg, Alert{"break-glass", {}, "x", "", 0}).ok());
  EXPECT_TRUE(RaiseAlert(AuditConfig{}, Alert{"break-glass", {}, "x", "", 0}).ok()) << "no channel: nothing to do";
}

}  // namespace
}  // namespace certvault::ca
