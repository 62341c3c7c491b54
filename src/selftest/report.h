// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// FormatReport: the output of `certvault selftest [--json]` and
// `certvault-ca selftest`, shared so that both programs print the same.
#ifndef CERTVAULT_SELFTEST_REPORT_H_
#define CERTVAULT_SELFTEST_REPORT_H_

#include <string>
#include <vector>

#include "src/selftest/selftest.h"

namespace certvault::selftest {

// FormatReport: one line per test ("PASS  sha256  0.012 ms" or
// "FAIL  sha256  <reason>") and a summary line; or, with `json`, one object
// {"ok": bool, "total_ms": n, "tests": [{"name", "ok", "ms", "error"?}]}.
std::string FormatReport(const std::vector<TestResult>& results, bool json);

// AllPassed: every result is OK.
bool AllPassed(const std::vector<TestResult>& results);

}  // namespace certvault::selftest

#endif  // CERTVAULT_SELFTEST_REPORT_H_
