// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// TrustedClock: whether the system clock may be trusted for signing and
// date-dependent decisions (issue 17, "Trusted time"; CKMS A.33-A.35).
//
// Two rules, each a clear kDeviceError when broken:
//   - the clock never goes backwards by more than `backward_tolerance_s`
//     behind a durable "latest trusted time" (the floor), which the owner
//     keeps (the vault: its database's `meta` table; see RaiseFloorFn);
//   - with a time source ("ntp://HOST[:PORT]", RFC 4330), the clock is within
//     `max_offset_s` of it; an unreachable source fails closed.
// A forward jump is recorded only after the source agreed with it (without a
// source, the clock is taken as it is).
//
// Cost: the full check (source query, durable write) runs at most once per
// `check_interval_s`; in between Check() reads the clock and two atomics.
// A failure is remembered for `retry_s`, so that an unreachable source does
// not cost a network timeout per call.
//
// Thread-safety: Check() and Health() may be called from any thread.
#ifndef CERTVAULT_BASE_TRUSTED_CLOCK_H_
#define CERTVAULT_BASE_TRUSTED_CLOCK_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "src/base/result.h"
#include "src/base/status.h"

namespace certvault {

struct TrustedClockOptions {
  std::string source;                // "ntp://HOST[:PORT]" or empty (none)
  int64_t max_offset_s = 10;         // policy bound against the source
  int64_t backward_tolerance_s = 2;  // how far behind the floor the clock may be
  int64_t check_interval_s = 60;     // full check at most this often
  int64_t retry_s = 5;               // a failed full check is reused this long
  int timeout_ms = 2000;             // per SNTP try
};

// TimeHealth: the last full check, for status reports.
struct TimeHealth {
  std::string source;      // empty: no source configured
  bool checked = false;    // a full check ran
  bool ok = false;         // it passed
  int64_t checked_at = 0;  // local clock at that check (Unix seconds)
  int64_t offset_s = 0;    // local minus source (0 without a source)
  int64_t floor = 0;       // the durable latest trusted time then
  std::string error;       // why it failed
};

class TrustedClock {
 public:
  // RaiseFloorFn: durably sets the floor to max(stored, t) and returns the
  // floor after the call (so a value above `t` means the clock went back).
  using RaiseFloorFn = std::function<Result<int64_t>(int64_t t)>;
  using NowFn = std::function<int64_t()>;
  using SourceFn = std::function<Result<int64_t>(const std::string& url, int timeout_ms)>;

  // The defaults read the system clock (time(2)) and ask the source over SNTP.
  TrustedClock(TrustedClockOptions options, RaiseFloorFn raise_floor, NowFn now = nullptr, SourceFn source = nullptr);
  TrustedClock(const TrustedClock&) = delete;
  TrustedClock& operator=(const TrustedClock&) = delete;

  // Check: OK when the clock may be trusted now; otherwise kFailedPrecondition
  // with Reason::kDeviceError and a message naming the clock and the fix.
  Status Check();
  // Health: the last full check (no check is run).
  TimeHealth Health() const;
  const TrustedClockOptions& options() const { return options_; }

 private:
  Status FullCheck(int64_t now);
  Status CheckSource(int64_t now, TimeHealth* health);

  const TrustedClockOptions options_;
  const RaiseFloorFn raise_floor_;
  const NowFn now_;
  const SourceFn source_;
  // The clock reading of the last passed full check (0: none yet). The fast
  // path trusts readings in [good_at_ - tolerance, good_at_ + interval).
  std::atomic<int64_t> good_at_{0};
  mutable std::mutex mu_;
  TimeHealth health_;      // GUARDED_BY(mu_)
  Status last_failure_;    // GUARDED_BY(mu_)
  int64_t failed_at_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace certvault

#endif  // CERTVAULT_BASE_TRUSTED_CLOCK_H_
