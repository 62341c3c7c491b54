// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// QuorumE2eTest: a vault with token "t" (a P-256 key "ca-key") and four
// custodian tokens cA..cD in temporary directories (low Argon2id cost), and
// helpers to run the quorum verbs (docs/design/quorum.md).
#ifndef CERTVAULT_CLI_QUORUM_E2E_FIXTURE_H_
#define CERTVAULT_CLI_QUORUM_E2E_FIXTURE_H_

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "cli/cli_e2e_fixture.h"
#include "src/core/backend.h"
#include "src/storage/store.h"

namespace certvault::cli {

class QuorumE2eTest : public CliE2eFixture {
 protected:
  void SetUp() override {
    CliE2eFixture::SetUp();
    std::ofstream(dir_ + "/conf.toml") << "[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\n";
    setenv("CERTVAULT_CONF", (dir_ + "/conf.toml").c_str(), 1);
    Init();
    ASSERT_EQ(CliPin({"keygen", "--label", "ca-key", "--type", "ec:p256"}).code, 0);
    for (const char* c : {"cA", "cB", "cC", "cD"}) MakeCustodian(c);
  }
  void TearDown() override {
    unsetenv("CERTVAULT_CONF");
    CliE2eFixture::TearDown();
  }
  // At: `certvault --vault DIR/vault_name WORDS...`.
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
  // WithCustodians: WORDS + --custodian DIR --custodian-pin-file F for each.
  std::vector<std::string> WithCustodians(std::vector<std::string> words, std::vector<std::string> names) {
    for (const std::string& n : names) {
      words.insert(words.end(), {"--custodian", dir_ + "/" + n, "--custodian-pin-file", dir_ + "/" + n + ".pin"});
    }
    return words;
  }
  CliRun So(std::vector<std::string> words) {
    words.insert(words.end(), {"--so-pin", "so-pin-1234"});
    return Cli(words);
  }
  void QuorumInit(std::vector<std::string> names, const std::string& op = "") {
    std::vector<std::string> w = {"quorum", "init", "--token", "t", "--k", "2"};
    if (!op.empty()) w.insert(w.end(), {"--op", op});
    CliRun r = So(WithCustodians(w, names));
    ASSERT_EQ(r.code, 0) << r.err;
  }
  std::string Request(const std::string& op) {
    CliRun r = So({"quorum", "request", "--token", "t", "--op", op});
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }
  CliRun Approve(const std::string& id, const std::string& custodian) {
    return Cli(
        {"quorum", "approve", "--op", id, "--custodian", dir_ + "/" + custodian, "--pin", "pin-of-" + custodian});
  }
  std::vector<std::string> Actions(const std::string& vault = "vault") {
    std::vector<std::string> out;
    auto store = storage::OpenStore(dir_ + "/" + vault + "/vault.db", storage::StoreOptions{});
    EXPECT_TRUE(store.ok());
    (void)(*store)->ForEachEvent(1, [&](const storage::EventRow& e) {
      out.push_back(e.action + ":" + e.result);
      return OkStatus();
    });
    return out;
  }
  static bool Contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }
  static Bytes Slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
  }
  static void Spit(const std::string& path, const Bytes& b) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), b.size());
  }
};

}  // namespace certvault::cli

#endif  // CERTVAULT_CLI_QUORUM_E2E_FIXTURE_H_
