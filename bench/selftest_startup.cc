// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-selftest-bench: the start-up time the power-on self-tests add to
// each certvault process (budget: <= 30 ms, docs/design/selftest.md).
//   certvault-selftest-bench [--runs N] [--quick]
// Each run is a fresh forked process (nothing fetched, DRBG not yet seeded:
// the cost a real start pays) that times RunPowerOnSelfTests() and each test.
// Prints median / p95 / max and the per-test medians. Exit 0 always: timing
// depends on the machine, so the smoke test (--quick) asserts nothing.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "src/selftest/selftest.h"

namespace {

constexpr double kBudgetMs = 30.0;

// OneRun: in a child, the wall time of RunPowerOnSelfTests() and, in a
// second fresh child, each test's own time. Results come back over a pipe.
std::vector<double> ChildTimes(bool per_test) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::vector<double> out;
    if (per_test) {
      for (const auto& r : certvault::selftest::RunAllTests()) out.push_back(r.millis);
    } else {
      auto t0 = std::chrono::steady_clock::now();
      bool ok = certvault::selftest::RunPowerOnSelfTests().ok();
      out.push_back(ok ? std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() : -1);
    }
    ssize_t n = write(fds[1], out.data(), out.size() * sizeof(double));
    _exit(n == static_cast<ssize_t>(out.size() * sizeof(double)) ? 0 : 1);
  }
  close(fds[1]);
  std::vector<double> out(64);
  ssize_t n = read(fds[0], out.data(), out.size() * sizeof(double));
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  out.resize(n > 0 ? static_cast<size_t>(n) / sizeof(double) : 0);
  return out;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 50;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) runs = 3;
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) runs = std::max(1, std::atoi(argv[++i]));
  }
  std::vector<double> totals;
  std::vector<std::vector<double>> per_test;
  for (int i = 0; i < runs; ++i) {
    std::vector<double> t = ChildTimes(false);
    if (t.size() != 1 || t[0] < 0) {
      std::fprintf(stderr, "self-tests failed in run %d\n", i);
      return 1;
    }
    totals.push_back(t[0]);
    per_test.push_back(ChildTimes(true));
  }
  std::vector<std::string> names = certvault::selftest::TestNames();
  std::printf("power-on self-tests, fresh process, %d runs: median %.2f ms, p95 %.2f ms, max %.2f ms (budget %.0f ms: %s)\n",
              runs, Percentile(totals, 0.5), Percentile(totals, 0.95), Percentile(totals, 1.0), kBudgetMs,
              Percentile(totals, 0.5) <= kBudgetMs ? "within" : "OVER");
  for (size_t t = 0; t + 1 < names.size(); ++t) {  // the last name is the per-key PCT
    std::vector<double> v;
    for (const auto& run : per_test) {
      if (t < run.size()) v.push_back(run[t]);
    }
    std::printf("  %-12s median %.3f ms\n", names[t].c_str(), Percentile(v, 0.5));
  }
  return 0;
}
