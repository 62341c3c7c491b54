// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include <syslog.h>

#include <atomic>
#include <mutex>
#include <string>

#include "src/selftest/selftest.h"

namespace certvault::selftest {
namespace {

void SyslogSink(std::string_view line) {
  syslog(LOG_ERR | LOG_USER, "certvault: %.*s", static_cast<int>(line.size()), line.data());
}

// Constant-initialized with trivial destructors: no static destructor runs
// in a module at dlclose or exit. The reason string is heap-allocated once
// and deliberately never freed.
std::atomic<bool> g_error{false};
std::atomic<const std::string*> g_reason{nullptr};
std::atomic<LogSink> g_sink{SyslogSink};
std::mutex g_mu;

}  // namespace

bool InErrorState() { return g_error.load(std::memory_order_acquire); }

Status ErrorStateStatus() {
  if (!InErrorState()) return OkStatus();
  const std::string* reason = g_reason.load(std::memory_order_acquire);
  return Status(Reason::kDeviceError,
                "certvault is in the self-test error state: " + (reason != nullptr ? *reason : std::string("?")));
}

void EnterErrorState(std::string_view reason) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_reason.load(std::memory_order_relaxed) != nullptr) return;  // first reason only, logged once
  g_reason.store(new std::string(reason), std::memory_order_release);
  g_error.store(true, std::memory_order_release);
  g_sink.load()(std::string("self-test failed, entering the error state: ").append(reason));
}

void SetLogSink(LogSink sink) { g_sink.store(sink != nullptr ? sink : SyslogSink); }

}  // namespace certvault::selftest
