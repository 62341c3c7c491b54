// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CliE2eFixture: runs the certvault verbs in-process (RunCli) over the real
// embedded backend, on a vault in a temporary directory removed afterwards.
#ifndef CERTVAULT_CLI_CLI_E2E_FIXTURE_H_
#define CERTVAULT_CLI_CLI_E2E_FIXTURE_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/output.h"

namespace certvault::cli {

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

class CliE2eFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cv_cli_e2e.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    unsetenv("CERTVAULT_PIN");
    unsetenv("CERTVAULT_SO_PIN");
  }
  void TearDown() override { (void)std::system(("rm -rf '" + dir_ + "'").c_str()); }

  // Cli: `certvault --vault DIR/vault WORDS...`.
  CliRun Cli(std::vector<std::string> words) {
    words.insert(words.begin(), {"certvault", "--vault", dir_ + "/vault"});
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    std::ostringstream out, err;
    int code = RunCli(static_cast<int>(argv.size()), argv.data(), OpenEmbeddedBackend, out, err);
    return {code, out.str(), err.str()};
  }
  // CliPin: Cli with the user PIN of Init.
  CliRun CliPin(std::vector<std::string> words) {
    words.insert(words.end(), {"--pin", "user-pin-1234"});
    return Cli(words);
  }
  // Init: token "t" with SO PIN so-pin-1234 and user PIN user-pin-1234.
  void Init() {
    CliRun r = Cli({"init", "--label", "t", "--so-pin", "so-pin-1234", "--pin", "user-pin-1234"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  std::string dir_;
};

}  // namespace certvault::cli

#endif  // CERTVAULT_CLI_CLI_E2E_FIXTURE_H_
