// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// policy.toml [quorum] and [backup] against a vault's custody, end to end
// (docs/design/policy.md "Custody"): `certvault policy check` reports a
// token without the quorum or the backup the policy asks for, `quorum init`
// refuses a quorum weaker than the policy's, and once the token has both
// the check passes.
#include <sys/stat.h>

#include <fstream>

#include "cli/cli_e2e_fixture.h"

namespace certvault::cli {
namespace {

class PolicyE2eTest : public CliE2eFixture {
 protected:
  void SetUp() override {
    CliE2eFixture::SetUp();
    std::ofstream(dir_ + "/policy.toml")
        << "[policy]\nname = \"custody test\"\n[pin]\nmin_length = 8\n"
        << "[quorum]\nk = 2\nn = 3\n[backup]\nrequired = true\nmax_interval_hours = 24\n";
    std::ofstream(dir_ + "/conf.toml") << "[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\npolicy = policy.toml\n";
    setenv("CERTVAULT_CONF", (dir_ + "/conf.toml").c_str(), 1);
    Init();
    for (const char* c : {"cA", "cB", "cC"}) MakeCustodian(c);
  }
  void TearDown() override {
    unsetenv("CERTVAULT_CONF");
    CliE2eFixture::TearDown();
  }
  CliRun At(const std::string& vault, std::vector<std::string> words) {
    words.insert(words.begin(), {"certvault", "--vault", dir_ + "/" + vault});
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    std::ostringstream out, err;
    int code = RunCli(static_cast<int>(argv.size()), argv.data(), OpenEmbeddedBackend, out, err);
    return {code, out.str(), err.str()};
  }
  void MakeCustodian(const std::string& name) {
    CliRun r = At(name, {"init", "--label", name, "--so-pin", "so-pin-1234", "--pin", "pin-of-" + name});
    ASSERT_EQ(r.code, 0) << r.err;
    std::string file = dir_ + "/" + name + ".pin";
    std::ofstream(file) << "pin-of-" << name << "\n";
    chmod(file.c_str(), 0600);
  }
  CliRun QuorumInit(std::vector<std::string> names) {
    std::vector<std::string> w = {"quorum", "init", "--token", "t", "--k", "2", "--so-pin", "so-pin-1234"};
    for (const std::string& n : names) {
      w.insert(w.end(), {"--custodian", dir_ + "/" + n, "--custodian-pin-file", dir_ + "/" + n + ".pin"});
    }
    return Cli(w);
  }
  static bool Has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }
};

TEST_F(PolicyE2eTest, CustodyIsReportedAndAWeakerQuorumRefused) {
  CliRun check = Cli({"policy", "check"});
  EXPECT_EQ(check.code, 5);  // refused by policy
  EXPECT_TRUE(Has(check.out, "token t: [quorum] VIOLATED")) << check.out;
  EXPECT_TRUE(Has(check.out, "token t: [backup] VIOLATED: no backup")) << check.out;
  EXPECT_TRUE(Has(check.out, "token t: [audit] ok")) << check.out;

  CliRun weak = QuorumInit({"cA", "cB"});  // 2-of-2: fewer custodians than n = 3
  EXPECT_EQ(weak.code, 5);
  EXPECT_TRUE(Has(weak.err, "weaker than the policy")) << weak.err;
  CliRun status = Cli({"quorum", "status", "--token", "t"});
  EXPECT_TRUE(Has(status.out, "no quorum")) << status.out;  // nothing was written

  CliRun init = QuorumInit({"cA", "cB", "cC"});
  ASSERT_EQ(init.code, 0) << init.err;
  CliRun req = Cli({"quorum", "request", "--token", "t", "--op", "backup", "--so-pin", "so-pin-1234"});
  ASSERT_EQ(req.code, 0) << req.err;
  const std::string id = req.out.substr(0, req.out.find('\n'));
  for (const char* c : {"cA", "cB"}) {
    CliRun a =
        Cli({"quorum", "approve", "--op", id, "--custodian", dir_ + "/" + c, "--pin", std::string("pin-of-") + c});
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
