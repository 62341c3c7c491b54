// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/base/trusted_clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <ctime>
#include <mutex>
#include <thread>
#include <vector>

#include "src/base/sntp.h"
#include "src/base/testing/sntp_responder.h"

namespace certvault {
namespace {

// A clock, a floor store and a source under the test's control.
struct Fakes {
  int64_t now = 1'800'000'000;
  int64_t floor = 0;
  int64_t source_offset = 0;  // source minus local
  bool source_up = true;
  int source_calls = 0, floor_calls = 0;

  TrustedClock Make(TrustedClockOptions options) {
    return TrustedClock(
        std::move(options),
        [this](int64_t t) -> Result<int64_t> {
          ++floor_calls;
          floor = std::max(floor, t);
          return floor;
        },
        [this] { return now; },
        [this](const std::string&, int) -> Result<int64_t> {
          ++source_calls;
          if (!source_up) return UnavailableError("no answer");
          return now + source_offset;
        });
  }
};

TEST(TrustedClock, RecordsTheFloorAndChecksOncePerInterval) {
  Fakes f;
  TrustedClock clock = f.Make({.source = "ntp://x", .check_interval_s = 60});
  ASSERT_TRUE(clock.Check().ok());
  EXPECT_EQ(f.floor, f.now);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(clock.Check().ok());
  f.now += 59;
  ASSERT_TRUE(clock.Check().ok());
  EXPECT_EQ(f.source_calls, 1);  // the fast path asks nobody
  EXPECT_EQ(f.floor_calls, 1);
  f.now += 1;
  ASSERT_TRUE(clock.Check().ok());
  EXPECT_EQ(f.source_calls, 2);
  EXPECT_EQ(f.floor, f.now);
  TimeHealth h = clock.Health();
  EXPECT_TRUE(h.ok);
  EXPECT_EQ(h.checked_at, f.now);
  EXPECT_EQ(h.source, "ntp://x");
}

TEST(TrustedClock, ClockBehindTheDurableFloorIsRefused) {
  Fakes f;
  f.floor = f.now + 3600;  // recorded by an earlier process
  TrustedClock clock = f.Make({.backward_tolerance_s = 2});
  Status s = clock.Check();
  EXPECT_EQ(s.reason(), Reason::kDeviceError);
  EXPECT_NE(s.message().find("3600 s behind the latest trusted time"), std::string::npos) << s.ToString();
  EXPECT_EQ(f.floor, f.now + 3600);  // never lowered
  f.now = f.floor - 2;               // within the tolerance (after retry_s)
  EXPECT_TRUE(clock.Check().ok());
}

TEST(TrustedClock, BackwardsStepInsideTheIntervalIsCaught) {
  Fakes f;
  TrustedClock clock = f.Make({.backward_tolerance_s = 2, .check_interval_s = 60});
  ASSERT_TRUE(clock.Check().ok());
  f.now -= 2;
  EXPECT_TRUE(clock.Check().ok());  // tolerated
  f.now -= 10;
  EXPECT_EQ(clock.Check().reason(), Reason::kDeviceError);
}

TEST(TrustedClock, SourceOffsetBeyondTheBoundIsRefusedAndNotRecorded) {
  Fakes f;
  f.source_offset = -3600;  // the local clock jumped an hour ahead
  TrustedClock clock = f.Make({.source = "ntp://x", .max_offset_s = 10});
  Status s = clock.Check();
  EXPECT_EQ(s.reason(), Reason::kDeviceError);
  EXPECT_NE(s.message().find("3600 s away from ntp://x"), std::string::npos) << s.ToString();
  EXPECT_EQ(f.floor, 0);  // the jump was not recorded
  EXPECT_EQ(clock.Health().offset_s, 3600);
  EXPECT_FALSE(clock.Health().ok);
  f.source_offset = 10;  // at the bound: accepted (after retry_s)
  f.now += 5;
  EXPECT_TRUE(clock.Check().ok());
}

TEST(TrustedClock, UnreachableSourceFailsClosedWithoutATimeoutPerCall) {
  Fakes f;
  f.source_up = false;
  TrustedClock clock = f.Make({.source = "ntp://x", .retry_s = 5});
  EXPECT_EQ(clock.Check().reason(), Reason::kDeviceError);
  EXPECT_FALSE(clock.Check().ok());
  EXPECT_EQ(f.source_calls, 1);  // the failure is reused for retry_s
  f.source_up = true;
  f.now += 5;
  EXPECT_TRUE(clock.Check().ok());
}

TEST(TrustedClock, FloorWriteFailureRefuses) {
  TrustedClock clock({}, [](int64_t) -> Result<int64_t> { return UnavailableError("disk"); });
  EXPECT_EQ(clock.Check().reason(), Reason::kDeviceError);
}

TEST(TrustedClock, ConcurrentChecksRunOneFullCheckPerInterval) {
  std::atomic<int64_t> now{1'800'000'000};
  std::atomic<int> sources{0};
  std::mutex floor_mu;
  int64_t floor = 0;
  // The fake clock jumps 30 s while other threads are between reading the
  // clock, the source and the floor: the bounds are wide so that only the
  // number of full checks is under test (offsets and the floor have their
  // own tests above).
  TrustedClock clock(
      {.source = "ntp://x", .max_offset_s = 3600, .backward_tolerance_s = 3600, .check_interval_s = 60},
      [&](int64_t t) -> Result<int64_t> {
        std::lock_guard<std::mutex> lock(floor_mu);
        floor = std::max(floor, t);
        return floor;
      },
      [&] { return now.load(); },
      [&](const std::string&, int) -> Result<int64_t> {
        ++sources;
        return now.load();
      });
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (t == 0 && i % 100 == 0) now += 30;  // crosses an interval every other step
        if (!clock.Check().ok()) ++failures;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(sources.load(), 6);  // (5 steps * 30 s) / 60 s, plus the first
  EXPECT_TRUE(clock.Health().ok);
}

TEST(Sntp, ReadsTheServersTransmitTime) {
  testing::SntpResponder server(7200);
  Result<int64_t> t = QueryNtpTime(server.url(), 5000);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  int64_t offset = *t - static_cast<int64_t>(time(nullptr));
  EXPECT_GE(offset, 7198);
  EXPECT_LE(offset, 7200);
}

TEST(Sntp, RejectsOtherUrls) {
  EXPECT_EQ(QueryNtpTime("http://x", 10).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(QueryNtpTime("ntp://", 10).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace certvault
