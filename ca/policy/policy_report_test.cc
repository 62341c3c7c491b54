// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/policy/policy_report.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace certvault::ca {
namespace {

CaConfig Config() {
  CaConfig cfg;
  cfg.name = "factory";
  cfg.issuing_subject = "/CN=Issuing <CA> & \"Co\"";
  cfg.database = "sqlite:/x/ca.db";
  Profile p;
  p.name = "device";
  p.days = 90;
  cfg.profiles.emplace("device", p);
  Policy policy;
  policy.name = "Policy <b>x</b>";
  policy.quorum_k = 2;
  policy.quorum_n = 3;
  cfg.policy = std::make_shared<const Policy>(policy);
  return cfg;
}

LiveStatus Live() {
  LiveStatus live;
  live.crl_number = "7";
  live.selftest = "passed";
  return live;
}

TEST(PolicyReport, MarkdownHasValuesEnforcementAndStatus) {
  std::string md = RenderMarkdown(BuildReport(Config(), Live()));
  EXPECT_NE(md.find("| A.01-A.05 |"), std::string::npos);
  EXPECT_NE(md.find("2 of 3"), std::string::npos);
  EXPECT_NE(md.find("not enforced yet"), std::string::npos);
  EXPECT_NE(md.find("last full CRL number: 7"), std::string::npos);
  EXPECT_NE(md.find("longest profile: 90 d"), std::string::npos);
  EXPECT_NE(md.find("| OpenSSL | OpenSSL 3"), std::string::npos);
  EXPECT_NE(md.find("### 6.3.2 Certificate operational"), std::string::npos);
}

TEST(PolicyReport, ChangesWithTheConfiguration) {
  CaConfig cfg = Config();
  std::string before = RenderMarkdown(BuildReport(cfg, Live()));
  cfg.profiles["device"].days = 30;
  std::string after = RenderMarkdown(BuildReport(cfg, Live()));
  EXPECT_NE(before, after);
  EXPECT_NE(after.find("longest profile: 30 d"), std::string::npos);
}

TEST(PolicyReport, WithoutPolicySaysSo) {
  CaConfig cfg = Config();
  cfg.policy = nullptr;
  std::string md = RenderMarkdown(BuildReport(cfg, Live()));
  EXPECT_NE(md.find("(no policy configured)"), std::string::npos);
}

TEST(PolicyReport, HtmlEscapesEveryValue) {
  std::string html = RenderHtml(BuildReport(Config(), Live()));
  EXPECT_EQ(html.find("<b>x</b>"), std::string::npos);
  EXPECT_EQ(html.find("<CA>"), std::string::npos);
  EXPECT_NE(html.find("Policy &lt;b&gt;x&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(html.find("Issuing &lt;CA&gt; &amp; &quot;Co&quot;"), std::string::npos);
  EXPECT_EQ(HtmlEscape("'&"), "&#39;&amp;");
}

TEST(PolicyReport, MarkdownCellsCannotBreakTheTable) {
  CaConfig cfg = Config();
  Policy p = *cfg.policy;
  p.name = "a|b\nc";
  cfg.policy = std::make_shared<const Policy>(p);
  std::string md = RenderMarkdown(BuildReport(cfg, Live()));
  EXPECT_NE(md.find("a\\|b c"), std::string::npos);
}

TEST(PolicyReport, OsFromOsRelease) {
  std::string path = testing::TempDir() + "/os-release";
  std::ofstream(path) << "NAME=\"Debian\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n";
  auto inv = ComponentVersions(Config(), path);
  EXPECT_EQ(inv.back().second, "Debian GNU/Linux 12 (bookworm)");
  EXPECT_NE(inv[2].second.find("(database in use)"), std::string::npos);  // SQLite
  std::remove(path.c_str());
}

}  // namespace
}  // namespace certvault::ca
