// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CPU pairing of connection threads (docs/design/daemon.md, "CPU
// placement"). A signature through certvaultd is a ping-pong: the client
// thread waits while its connection's thread signs. With CPUs to spare the
// scheduler places both well (each spins on its own CPU). With as many busy
// connections as CPUs it often does not: two connection threads share one
// CPU while the other runs only the two waiting clients, and every wake-up
// crosses CPUs. So from that point on, a busy connection (a burst of
// requests) holds its thread to its client's CPU, which every request
// carries (the cpu field, src/ipc/wire.h): each CPU then runs whole pairs
// taking turns, and the pairs go wherever the scheduler balances the
// clients. An idle connection, or any connection while there are fewer busy
// ones than CPUs, runs anywhere. Clients are never moved, and no thread
// leaves the CPUs the daemon was started with.
#ifndef CERTVAULT_DAEMON_CPU_PAIRING_H_
#define CERTVAULT_DAEMON_CPU_PAIRING_H_

#include <sched.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace certvault::daemon {

// CpuPairing: the server's view of its busy connections.
class CpuPairing {
 public:
  // kIdleNs: a connection without a request for this long is not busy.
  static constexpr int64_t kIdleNs = 50'000'000;

  // Entry: one connection, written by its own thread.
  struct Entry {
    std::atomic<bool> bursting{false};  // in a burst of requests ...
    std::atomic<int64_t> last_ns{0};    // ... the last of which came then (steady clock)
  };

  // The allowed CPUs are the process's affinity now (systemd's CPUAffinity=,
  // a cpuset, taskset). With fewer than two, pairing is off.
  CpuPairing();
  // For tests: these CPUs (ascending).
  explicit CpuPairing(std::vector<int> cpus) : cpus_(std::move(cpus)) {}

  bool enabled() const { return cpus_.size() > 1; }
  const std::vector<int>& cpus() const { return cpus_; }

  void Add(Entry* e);
  void Remove(Entry* e);
  // Choose: the CPU to hold the thread of busy entry `e` to at `now_ns`, whose
  // client is on `client_cpu` (-1 unknown): that CPU if at least as many
  // entries as allowed CPUs are busy and it is allowed; -1 (anywhere) otherwise.
  int Choose(const Entry* e, int64_t now_ns, int client_cpu);

 private:
  bool Allowed(int cpu) const;

  std::vector<int> cpus_;
  std::mutex mu_;
  std::vector<const Entry*> entries_;  // GUARDED_BY(mu_)
};

// CpuPlacement: one connection thread's use of the pairing. Construct,
// OnRequest and destroy on that thread.
class CpuPlacement {
 public:
  static constexpr int64_t kBurstGapNs = 1'000'000;    // requests closer than this are a burst ...
  static constexpr int kBurst = 64;                    // ... and this many make the connection busy
  static constexpr int64_t kRecheckNs = 20'000'000;    // between looks at how many are busy
  static constexpr int64_t kFollowGapNs = 1'000'000;   // a held thread follows its client at most this often

  explicit CpuPlacement(CpuPairing* pairing);  // nullptr or a disabled pairing: does nothing
  ~CpuPlacement();
  CpuPlacement(const CpuPlacement&) = delete;
  CpuPlacement& operator=(const CpuPlacement&) = delete;

  // OnRequest: a request with cpu field `hint` arrived at `now_ns` (steady clock).
  void OnRequest(int64_t now_ns, uint16_t hint);
  // held: the CPU this thread is held to, -1 if none.
  int held() const { return held_; }

 private:
  void Hold(int cpu);  // -1: back to the allowed set
  bool DueForChoice(int64_t now_ns, int client_cpu) const;

  CpuPairing* const pairing_;
  CpuPairing::Entry entry_;
  int held_ = -1;
  int64_t prev_ns_ = 0;
  int burst_ = 0;
  int64_t chose_ns_ = 0;
  int64_t moved_ns_ = 0;
};

}  // namespace certvault::daemon

#endif  // CERTVAULT_DAEMON_CPU_PAIRING_H_
