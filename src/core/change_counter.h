// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// ChangeCounter: a 64-bit counter in a small file beside the database
// (`vault.gen`), mapped shared into every process that opens the vault. A
// process bumps it after it commits a change that can invalidate another
// process's cached keys (an object updated or destroyed, a token
// re-initialized). Readers compare it with the value they saw when they last
// validated a cache entry: one memory load instead of a SQLite read
// transaction (whose file locks cost several system calls) on every C_*Init.
//
// A writer killed between its commit and its bump leaves the counter behind;
// cache entries are therefore also revalidated after kMaxStaleness, which
// bounds how long such a change can go unseen.
//
// Thread-safe. If the file cannot be created or mapped (a read-only vault
// directory), Load() always returns a fresh value, so every use revalidates.
#ifndef CERTVAULT_CORE_CHANGE_COUNTER_H_
#define CERTVAULT_CORE_CHANGE_COUNTER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace certvault::core {

class ChangeCounter {
 public:
  static constexpr std::chrono::milliseconds kMaxStaleness{1000};

  // ChangeCounter(path): maps `path`, creating it (mode 0600) if missing.
  explicit ChangeCounter(const std::string& path);
  ~ChangeCounter();
  ChangeCounter(const ChangeCounter&) = delete;
  ChangeCounter& operator=(const ChangeCounter&) = delete;

  // Load: the current value (acquire).
  uint64_t Load() const;
  // Bump: increments the counter (release). Call after the change committed.
  void Bump();

 private:
  std::atomic<uint64_t>* shared_ = nullptr;  // in the mapping, or null
  mutable std::atomic<uint64_t> fallback_{0};
  void* map_ = nullptr;
};

}  // namespace certvault::core

#endif  // CERTVAULT_CORE_CHANGE_COUNTER_H_
