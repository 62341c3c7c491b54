// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// policy.toml [quorum] and [backup] against a vault's custody, end to end
// (docs/design/policy.md "Custody"): `certvault policy check` reports a
// token without the quorum or the backup the policy asks for, `quorum init`
// refuses a quorum weaker than the policy's, and once the token has both
// the check passes.
#include <fstream>

#include "cli/quorum_e2e_fixture.h"

namespace certvault::cli {
namespace {

class PolicyE2eTest : public QuorumCliFixture {
 protected:
  void SetUp() override {
    QuorumCliFixture::SetUp();
    std::ofstream(dir_ + "/policy.toml")
        << "[policy]\nname = \"custody test\"\n[pin]\nmin_length = 8\n"
        << "[quorum]\nk = 2\nn = 3\n[backup]\nrequired = true\nmax_interval_hours = 24\n";
    UseConf("policy = policy.toml\n");
    Init();
    for (const char* c : {"cA", "cB", "cC"}) MakeCustodian(c);
  }
  static bool Has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }
};

TEST_F(PolicyE2eTest, CustodyIsReportedAndAWeakerQuorumRefused) {
  CliRun check = Cli({"policy", "check"});
  EXPECT_EQ(check.code, 5);  // refused by policy
  EXPECT_TRUE(Has(check.out, "token t: [quorum] VIOLATED")) << check.out;
  EXPECT_TRUE(Has(check.out, "token t: [backup] VIOLATED: no backup")) << check.out;
  EXPECT_TRUE(Has(check.out, "token t: [audit] ok")) << check.out;

  CliRun weak = QuorumInitRun({"cA", "cB"});  // 2-of-2: fewer custodians than n = 3
  EXPECT_EQ(weak.code, 5);
  EXPECT_TRUE(Has(weak.err, "weaker than the policy")) << weak.err;
  CliRun status = Cli({"quorum", "status", "--token", "t"});
  EXPECT_TRUE(Has(status.out, "no quorum")) << status.out;  // nothing was written

  CliRun init = QuorumInitRun({"cA", "cB", "cC"});
  ASSERT_EQ(init.code, 0) << init.err;
  const std::string id = Request("backup");
  for (const char* c : {"cA", "cB"}) {
    CliRun a = Approve(id, c);
    ASSERT_EQ(a.code, 0) << a.err;
  }
  CliRun backup = Cli({"backup", "--token", "t", "--out", dir_ + "/t.cvbk", "--op", id, "--so-pin", "so-pin-1234"});
  ASSERT_EQ(backup.code, 0) << backup.err;

  check = Cli({"policy", "check", "--json"});
  EXPECT_EQ(check.code, 0) << check.out << check.err;
  EXPECT_TRUE(Has(check.out, "\"policy\":\"custody test\"")) << check.out;
  EXPECT_FALSE(Has(check.out, "\"ok\":false")) << check.out;
}

}  // namespace
}  // namespace certvault::cli
