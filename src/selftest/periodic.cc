// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/selftest/periodic.h"

#include "src/selftest/selftest.h"

namespace certvault::selftest {

PeriodicSelfTest::PeriodicSelfTest(std::chrono::milliseconds interval) {
  if (interval.count() > 0) thread_ = std::thread([this, interval] { Loop(interval); });
}

PeriodicSelfTest::~PeriodicSelfTest() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int PeriodicSelfTest::Runs() {
  std::lock_guard<std::mutex> lock(mu_);
  return runs_;
}

void PeriodicSelfTest::Loop(std::chrono::milliseconds interval) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, interval, [this] { return stop_; })) {
    lock.unlock();
    (void)RunPowerOnSelfTests();  // a failure is the error state, logged there
    lock.lock();
    ++runs_;
  }
}

}  // namespace certvault::selftest
