// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Power-on self-tests and the process-wide error state (docs/design/selftest.md).
//
// The PKCS#11 module, the OpenSSL provider, certvaultd and certvault-ca run
// RunPowerOnSelfTests() when they load (the certvault CLI on demand only):
// known-answer tests (KATs) of every algorithm family it relies on, a health
// check of the DRBG and, where a manifest is installed, an integrity check of
// the running binary. A failure puts the process into the error state: every
// cryptographic entry point then fails (each boundary maps ErrorStateStatus()),
// nothing sensitive is output, and the reason is logged once. The state is
// sticky for the life of the process: only a restart (which reruns the tests)
// leaves it, as FIPS 140-3 (ISO/IEC 19790 §7.10.3) requires of an error state.
#ifndef CERTVAULT_SELFTEST_SELFTEST_H_
#define CERTVAULT_SELFTEST_SELFTEST_H_

#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"

namespace certvault::selftest {

// TestResult: the outcome of one self-test. `name` is stable (it is also the
// value of CERTVAULT_SELFTEST_FAULT in fault-injection test builds).
struct TestResult {
  std::string name;
  Status status;
  double millis = 0;
};

// TestNames: the names of every power-on test, in run order, then "pct" (the
// pairwise-consistency test, run per key pair: pct.h).
std::vector<std::string> TestNames();

// RunAllTests: runs every power-on test and returns each result. It does not
// touch the error state (`certvault selftest` reports; it decides nothing).
// Thread-safe.
std::vector<TestResult> RunAllTests();

// RunPowerOnSelfTests: runs every power-on test; on the first failure enters
// the error state with that test's name. Returns OK or ErrorStateStatus().
// In the error state it runs nothing and returns ErrorStateStatus(): the
// state is never left. Thread-safe; each call otherwise reruns the tests.
Status RunPowerOnSelfTests();

// InErrorState: true once any self-test or pairwise-consistency test failed in
// this process. One relaxed atomic load: cheap enough for every call.
bool InErrorState();

// ErrorStateStatus: kDeviceError ("certvault is in the self-test error state:
// <reason>"), or OK when not in the error state.
Status ErrorStateStatus();

// EnterErrorState: enters the error state (idempotent). The first reason is
// kept and logged once through the log sink; later reasons are dropped.
// `reason` must name the failed test, never hold key bytes or data.
void EnterErrorState(std::string_view reason);

// LogSink: where the one error-state line goes. The default is syslog(3)
// (LOG_ERR), since a loaded module must never print to stderr; programs
// that own their stderr (certvaultd, certvault-ca) may install their own.
using LogSink = void (*)(std::string_view line);
void SetLogSink(LogSink sink);

}  // namespace certvault::selftest

#endif  // CERTVAULT_SELFTEST_SELFTEST_H_
