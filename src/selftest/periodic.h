// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// PeriodicSelfTest: reruns the power-on self-tests every `interval` on a
// thread of its own (certvaultd: [daemon] selftest_interval_s; see
// docs/design/selftest.md). A failure enters the process's error state
// (logged once); from then on the engine refuses every cryptographic call.
#ifndef CERTVAULT_SELFTEST_PERIODIC_H_
#define CERTVAULT_SELFTEST_PERIODIC_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace certvault::selftest {

class PeriodicSelfTest {
 public:
  // Starts the thread; an interval of zero starts nothing.
  explicit PeriodicSelfTest(std::chrono::milliseconds interval);
  // Stops and joins the thread (waits for a run in progress, a few ms).
  ~PeriodicSelfTest();
  PeriodicSelfTest(const PeriodicSelfTest&) = delete;
  PeriodicSelfTest& operator=(const PeriodicSelfTest&) = delete;

  // Runs: how many reruns have completed. Thread-safe.
  int Runs();

 private:
  void Loop(std::chrono::milliseconds interval);

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  int runs_ = 0;       // guarded by mu_
  std::thread thread_;
};

}  // namespace certvault::selftest

#endif  // CERTVAULT_SELFTEST_PERIODIC_H_
