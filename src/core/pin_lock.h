// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// PinCheckLock: serializes PIN checks on one vault across the threads of a
// process and across processes, with an exclusive flock(2) on a small file
// beside the database (`pin.lock`).
//
// Why: a role's try counter is decremented and committed *before* its PIN is
// checked (so a process killed during the memory-hard check never buys an
// extra guess) and reset after a correct PIN. Without serialization, more
// concurrent correct logins than pin_max_tries drive the in-flight decrements
// to zero, and a correct PIN then reports CKR_PIN_LOCKED. Under the lock the
// counter is exact: decrement, check, reset happen as one step for everyone.
// The kernel drops the lock of a killed process, so a crash cannot wedge it.
//
// If the file cannot be opened (a read-only vault), only the threads of this
// process are serialized; the store then refuses the decrement anyway.
//
// Thread-safe. Hold a Guard only for the check itself: logins on one vault
// wait for each other (one Argon2id derivation at a time, tens of ms).
#ifndef CERTVAULT_CORE_PIN_LOCK_H_
#define CERTVAULT_CORE_PIN_LOCK_H_

#include <mutex>
#include <string>

namespace certvault::core {

class PinCheckLock {
 public:
  // PinCheckLock(path): the lock file, created (mode 0600) at first use.
  explicit PinCheckLock(std::string path) : path_(std::move(path)) {}
  PinCheckLock(const PinCheckLock&) = delete;
  PinCheckLock& operator=(const PinCheckLock&) = delete;

  // Guard: holds the lock for its lifetime.
  class Guard {
   public:
    explicit Guard(PinCheckLock& lock);
    ~Guard();
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    std::unique_lock<std::mutex> thread_lock_;
    int fd_ = -1;  // flock'ed file, or -1 (this process only)
  };

 private:
  const std::string path_;
  std::mutex mu_;  // one check at a time in this process (flock is per open file)
};

}  // namespace certvault::core

#endif  // CERTVAULT_CORE_PIN_LOCK_H_
