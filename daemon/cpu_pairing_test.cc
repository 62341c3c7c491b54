// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "daemon/cpu_pairing.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <thread>
#include <vector>

namespace certvault::daemon {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kStep = 10'000;  // 10 µs between the requests of a burst

std::vector<int> ThreadCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(pthread_getaffinity_np(pthread_self(), sizeof set, &set), 0);
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  return cpus;
}

uint16_t Hint(int cpu) { return static_cast<uint16_t>(cpu + 1); }

// Burst: a request and kBurst more 10 µs apart from `*now`, which it
// advances; the client is on `client_cpu` (-1: unknown).
void Burst(CpuPlacement& p, int64_t* now, int client_cpu) {
  for (int i = 0; i <= CpuPlacement::kBurst; ++i) p.OnRequest(*now += kStep, Hint(client_cpu));
}

// OnThread: runs `body` on a new thread, so that the test's thread keeps its affinity.
template <typename F>
void OnThread(F body) {
  std::thread t(body);
  t.join();
}

TEST(CpuPairingTest, PairsOnlyWithAsManyBusyConnectionsAsCpus) {
  CpuPairing pairing({0, 1, 2});
  CpuPairing::Entry a, b, c, quiet;
  for (auto* e : {&a, &b, &c, &quiet}) pairing.Add(e);
  const int64_t now = 100 * kMs;
  for (auto* e : {&a, &b, &c, &quiet}) e->last_ns = now;
  a.bursting = true;
  EXPECT_EQ(pairing.Choose(&a, now, 2), -1);  // one busy of three CPUs
  b.bursting = true;
  EXPECT_EQ(pairing.Choose(&a, now, 2), -1);  // two
  c.bursting = true;
  EXPECT_EQ(pairing.Choose(&a, now, 2), 2);  // three: with the client
  EXPECT_EQ(pairing.Choose(&b, now, 2), 2);  // pairs may share a CPU: the scheduler balances the clients
  EXPECT_EQ(pairing.Choose(&a, now, -1), -1);  // client's CPU unknown
  EXPECT_EQ(pairing.Choose(&a, now, 7), -1);   // ... or not one of the daemon's
  c.last_ns = now - CpuPairing::kIdleNs - 1;   // c went quiet
  EXPECT_EQ(pairing.Choose(&a, now, 2), -1);
  for (auto* e : {&a, &b, &c, &quiet}) pairing.Remove(e);
}

TEST(CpuPairingTest, TwoBusyClientsOnTwoCpusAreFollowedAndReleased) {
  const std::vector<int> cpus = ThreadCpus();
  if (cpus.size() != 2) GTEST_SKIP() << "written for two CPUs";
  CpuPairing pairing(cpus);
  int64_t now = 100 * kMs;
  std::vector<int> seen;
  OnThread([&] {
    CpuPlacement p(&pairing);
    Burst(p, &now, cpus[1]);
    seen.push_back(p.held());  // alone: anywhere
    OnThread([&] {
      CpuPlacement q(&pairing);
      Burst(q, &now, cpus[0]);
      seen.push_back(q.held());  // two busy on two CPUs: with its client
      seen.push_back(ThreadCpus() == std::vector<int>{cpus[0]} ? cpus[0] : -1);
      q.OnRequest(now += kStep, Hint(cpus[1]));  // the client moved; too soon to follow
      seen.push_back(q.held());
      for (int64_t t = 0; t < CpuPlacement::kFollowGapNs; t += kStep) q.OnRequest(now += kStep, Hint(cpus[1]));
      seen.push_back(q.held());
      q.OnRequest(now += CpuPairing::kIdleNs + kMs, Hint(cpus[1]));  // after a pause: not busy
      seen.push_back(q.held());
      seen.push_back(static_cast<int>(ThreadCpus().size()));
    });
  });
  EXPECT_EQ(seen, (std::vector<int>{-1, cpus[0], cpus[0], cpus[0], cpus[1], -1, 2}));
}

TEST(CpuPairingTest, SparseRequestsAreNotABurst) {
  const std::vector<int> cpus = ThreadCpus();
  if (cpus.size() < 2) GTEST_SKIP() << "needs two CPUs";
  CpuPairing pairing({cpus[0], cpus[1]});
  CpuPairing::Entry other;
  pairing.Add(&other);
  other.bursting = true;
  OnThread([&] {
    CpuPlacement p(&pairing);
    int64_t now = 100 * kMs;
    for (int i = 0; i < 3 * CpuPlacement::kBurst; ++i) {
      other.last_ns = now;
      p.OnRequest(now += 2 * kMs, Hint(cpus[0]));  // steady but 2 ms apart
    }
    EXPECT_EQ(p.held(), -1);
    EXPECT_EQ(ThreadCpus(), cpus);
  });
  pairing.Remove(&other);
}

TEST(CpuPairingTest, OffWithOneCpuOrWithoutPairing) {
  OnThread([] {
    const std::vector<int> before = ThreadCpus();
    CpuPairing one({before[0]});
    EXPECT_FALSE(one.enabled());
    for (CpuPairing* s : {&one, static_cast<CpuPairing*>(nullptr)}) {
      CpuPlacement p(s);
      int64_t now = 100 * kMs;
      Burst(p, &now, before[0]);
      EXPECT_EQ(p.held(), -1);
      EXPECT_EQ(ThreadCpus(), before);
    }
  });
}

}  // namespace
}  // namespace certvault::daemon
