// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Fault injection (this binary links fault_on.cc): each injected failure
// makes its test fail, and reaches the error state. The error state is
// sticky per process, so each case runs in a child (EXPECT_EXIT).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "src/crypto/libctx.h"
#include "src/crypto/ossl_ptr.h"
#include "src/selftest/pct.h"
#include "src/selftest/periodic.h"
#include "src/selftest/selftest.h"

namespace certvault::selftest {
namespace {

int g_log_lines = 0;
void CountingSink(std::string_view) { ++g_log_lines; }

// InjectAndRun: in the child; exit code 0 when everything held.
[[noreturn]] void InjectAndRun(const std::string& name) {
  setenv("CERTVAULT_SELFTEST_FAULT", name.c_str(), 1);
  SetLogSink(CountingSink);
  Status s;
  if (name == "pct") {
    ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(crypto::LibCtx(), nullptr, "EC", "P-256"));
    s = PairwiseConsistencyTest(key.get());
  } else {
    s = RunPowerOnSelfTests();
  }
  int code = 0;
  if (s.reason() != Reason::kDeviceError) code |= 1;
  if (!InErrorState()) code |= 2;
  if (ErrorStateStatus().reason() != Reason::kDeviceError) code |= 4;
  (void)RunPowerOnSelfTests();  // a rerun does not leave the state, nor log again
  if (!InErrorState() || g_log_lines != 1) code |= 8;
  std::fflush(nullptr);
  _exit(code);
}

TEST(SelfTestFault, NoFaultNoError) {
  unsetenv("CERTVAULT_SELFTEST_FAULT");
  EXPECT_TRUE(RunPowerOnSelfTests().ok());
}

TEST(SelfTestFault, EachInjectedFailureReachesTheErrorState) {
  for (const std::string& name : TestNames()) {
    EXPECT_EXIT(InjectAndRun(name), ::testing::ExitedWithCode(0), "") << name;
  }
}

TEST(SelfTestFault, ReportNamesOnlyTheFailedTest) {
  for (const std::string& name : {std::string("sha256"), std::string("rsa-pss"), std::string("argon2id")}) {
    setenv("CERTVAULT_SELFTEST_FAULT", name.c_str(), 1);
    for (const TestResult& r : RunAllTests()) EXPECT_EQ(r.status.ok(), r.name != name) << name << " " << r.name;
  }
  unsetenv("CERTVAULT_SELFTEST_FAULT");
  EXPECT_FALSE(InErrorState());  // RunAllTests reports, it never enters the state
}

// Last: it leaves this process in the error state.
TEST(SelfTestFault, PeriodicRerunReachesTheErrorState) {
  unsetenv("CERTVAULT_SELFTEST_FAULT");
  {
    PeriodicSelfTest periodic(std::chrono::milliseconds(5));
    // Bounded by count, not by a short timeout: slow machines just take longer.
    for (int i = 0; i < 60000 && periodic.Runs() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_GE(periodic.Runs(), 2);
    EXPECT_FALSE(InErrorState());
  }
  // The environment changes only while no rerun thread runs (getenv races setenv).
  setenv("CERTVAULT_SELFTEST_FAULT", "aes-gcm", 1);
  {
    PeriodicSelfTest periodic(std::chrono::milliseconds(5));
    for (int i = 0; i < 60000 && !InErrorState(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  unsetenv("CERTVAULT_SELFTEST_FAULT");
  EXPECT_TRUE(InErrorState());
  EXPECT_NE(ErrorStateStatus().message().find("aes-gcm"), std::string::npos);
}

TEST(SelfTestFault, ZeroIntervalStartsNothing) {
  PeriodicSelfTest periodic(std::chrono::milliseconds(0));
  EXPECT_EQ(periodic.Runs(), 0);
}

}  // namespace
}  // namespace certvault::selftest
