// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault selftest [--json]: runs every power-on self-test of this build
// on demand and reports each (docs/design/selftest.md). It opens no vault.
// Exit 0 when all pass; otherwise the kDeviceError exit code, with the
// report (naming the failed tests) on standard output all the same.
#include "cli/command_context.h"
#include "src/selftest/report.h"
#include "src/selftest/selftest.h"

namespace certvault::cli {

Status CmdSelftest(Context& ctx) {
  std::vector<selftest::TestResult> results = selftest::RunAllTests();
  *ctx.out << selftest::FormatReport(results, ctx.json);
  ctx.out->flush();
  if (selftest::AllPassed(results)) return OkStatus();
  return Status(Reason::kDeviceError, "self-test failed");
}

}  // namespace certvault::cli
