// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/base/trusted_clock.h"

#include <ctime>
#include <utility>

#include "src/base/sntp.h"
#include "src/base/utc_time.h"

namespace certvault {
namespace {

Status Untrusted(const std::string& why) {
  return Status(StatusCode::kFailedPrecondition, Reason::kDeviceError, "untrusted clock: " + why);
}

int64_t SystemNow() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace

TrustedClock::TrustedClock(TrustedClockOptions options, RaiseFloorFn raise_floor, NowFn now, SourceFn source)
    : options_(std::move(options)),
      raise_floor_(std::move(raise_floor)),
      now_(now ? std::move(now) : NowFn(SystemNow)),
      source_(source ? std::move(source) : SourceFn(QueryNtpTime)) {}

Status TrustedClock::Check() {
  const int64_t now = now_();
  auto trusted = [&](int64_t good) {
    return good != 0 && now >= good - options_.backward_tolerance_s && now - good < options_.check_interval_s;
  };
  if (trusted(good_at_.load(std::memory_order_acquire))) return OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  if (trusted(good_at_.load(std::memory_order_acquire))) return OkStatus();  // another thread just checked
  // Read again: waiting for the lock may have taken as long as another
  // thread's source query, and the source is compared with this reading.
  const int64_t fresh = now_();
  if (!last_failure_.ok() && fresh >= failed_at_ && fresh - failed_at_ < options_.retry_s) return last_failure_;
  Status s = FullCheck(fresh);
  if (s.ok()) {
    last_failure_ = OkStatus();
    good_at_.store(fresh, std::memory_order_release);
  } else {
    last_failure_ = s;
    failed_at_ = fresh;
    good_at_.store(0, std::memory_order_release);
  }
  return s;
}

// FullCheck: the source first, so that a forward jump it disagrees with is
// never recorded as the floor (which would then refuse the right time).
Status TrustedClock::FullCheck(int64_t now) {
  TimeHealth h;
  h.source = options_.source;
  h.checked = true;
  h.checked_at = now;
  Status s = CheckSource(now, &h);
  if (s.ok()) {
    Result<int64_t> floor = raise_floor_(now);
    if (!floor.ok()) {
      s = Status(StatusCode::kUnavailable, Reason::kDeviceError,
                 "cannot record the latest trusted time: " + std::string(floor.status().message()));
    } else {
      h.floor = *floor;
      if (*floor - now > options_.backward_tolerance_s) {
        s = Untrusted("the clock (" + UtcTimeText(now) + ") is " + std::to_string(*floor - now) +
                      " s behind the latest trusted time (" + UtcTimeText(*floor) + "), more than the tolerance of " +
                      std::to_string(options_.backward_tolerance_s) + " s; fix the system clock");
      }
    }
  }
  h.ok = s.ok();
  if (!s.ok()) h.error = std::string(s.message());
  health_ = h;
  return s;
}

Status TrustedClock::CheckSource(int64_t now, TimeHealth* health) {
  if (options_.source.empty()) return OkStatus();
  Result<int64_t> remote = source_(options_.source, options_.timeout_ms);
  if (!remote.ok()) {
    return Untrusted("time source " + options_.source + " unusable (" + std::string(remote.status().message()) + ")");
  }
  health->offset_s = now - *remote;
  if (health->offset_s > options_.max_offset_s || -health->offset_s > options_.max_offset_s) {
    return Untrusted("the clock (" + UtcTimeText(now) + ") is " + std::to_string(health->offset_s) + " s away from " +
                     options_.source + " (bound " + std::to_string(options_.max_offset_s) +
                     " s); fix the system clock");
  }
  return OkStatus();
}

TimeHealth TrustedClock::Health() const {
  std::lock_guard<std::mutex> lock(mu_);
  return health_;
}

}  // namespace certvault
