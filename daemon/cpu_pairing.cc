// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "daemon/cpu_pairing.h"

#include <pthread.h>

#include <algorithm>

namespace certvault::daemon {

CpuPairing::CpuPairing() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus_.push_back(c);
  }
}

void CpuPairing::Add(Entry* e) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.push_back(e);
}

void CpuPairing::Remove(Entry* e) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase(entries_, e);
}

bool CpuPairing::Allowed(int cpu) const { return std::binary_search(cpus_.begin(), cpus_.end(), cpu); }

int CpuPairing::Choose(const Entry* e, int64_t now_ns, int client_cpu) {
  if (client_cpu < 0 || !Allowed(client_cpu)) return -1;
  size_t busy = 1;  // e itself
  std::lock_guard<std::mutex> lock(mu_);
  for (const Entry* o : entries_) {
    if (o == e || !o->bursting.load(std::memory_order_relaxed)) continue;
    if (now_ns - o->last_ns.load(std::memory_order_relaxed) <= kIdleNs) ++busy;
  }
  return busy >= cpus_.size() ? client_cpu : -1;
}

CpuPlacement::CpuPlacement(CpuPairing* pairing)
    : pairing_(pairing != nullptr && pairing->enabled() ? pairing : nullptr) {
  if (pairing_ != nullptr) pairing_->Add(&entry_);
}

CpuPlacement::~CpuPlacement() {
  if (pairing_ != nullptr) pairing_->Remove(&entry_);
}

void CpuPlacement::Hold(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (cpu >= 0) {
    CPU_SET(cpu, &set);
  } else {
    for (int c : pairing_->cpus()) CPU_SET(c, &set);
  }
  if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0) {
    held_ = cpu;
  } else if (cpu >= 0) {  // the CPU left the daemon's cpuset: run anywhere
    Hold(-1);
  }
}

bool CpuPlacement::DueForChoice(int64_t now_ns, int client_cpu) const {
  if (now_ns - chose_ns_ >= kRecheckNs) return true;
  return held_ >= 0 && client_cpu != held_ && now_ns - moved_ns_ >= kFollowGapNs;
}

void CpuPlacement::OnRequest(int64_t now_ns, uint16_t hint) {
  if (pairing_ == nullptr) return;
  const int64_t gap = now_ns - prev_ns_;
  prev_ns_ = now_ns;
  burst_ = gap < kBurstGapNs ? std::min(burst_ + 1, kBurst) : 0;
  entry_.last_ns.store(now_ns, std::memory_order_relaxed);
  if (gap > CpuPairing::kIdleNs) {
    entry_.bursting.store(false, std::memory_order_relaxed);
    if (held_ >= 0) Hold(-1);
  }
  if (burst_ < kBurst) return;
  entry_.bursting.store(true, std::memory_order_relaxed);
  const int client_cpu = hint > 0 ? hint - 1 : -1;
  if (!DueForChoice(now_ns, client_cpu)) return;
  chose_ns_ = now_ns;
  const int cpu = pairing_->Choose(&entry_, now_ns, client_cpu);
  if (cpu != held_) {
    moved_ns_ = now_ns;
    Hold(cpu);
  }
}

}  // namespace certvault::daemon
