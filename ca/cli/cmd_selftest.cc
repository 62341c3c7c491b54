// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca selftest [--json]: the power-on self-tests on demand; and the
// gate that runs them before every other command (docs/design/selftest.md).
#include <cstdio>
#include <string>

#include "ca/cli/cli.h"
#include "src/selftest/report.h"
#include "src/selftest/selftest.h"

namespace certvault::ca::cli {
namespace {

void LogToStderr(std::string_view line) {
  std::fprintf(stderr, "certvault-ca: %.*s\n", static_cast<int>(line.size()), line.data());
}

}  // namespace

int CmdSelftest(Args& args) {
  std::vector<selftest::TestResult> results = selftest::RunAllTests();
  std::fputs(selftest::FormatReport(results, args.Has("json")).c_str(), stdout);
  return selftest::AllPassed(results) ? 0 : 1;
}

// A failure puts the process into the error state (the reason logged once,
// on stderr) and the command does not run: nothing is issued or signed.
int RequireSelfTests() {
  selftest::SetLogSink(LogToStderr);
  return selftest::RunPowerOnSelfTests().ok() ? 0 : 1;
}

}  // namespace certvault::ca::cli
