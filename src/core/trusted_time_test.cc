// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Trusted time in the embedded backend (issue 17; docs/config.md "Trusted
// time"): C_Login and C_SignInit fail with kDeviceError (CKR_DEVICE_ERROR)
// while the clock is behind the vault's latest trusted time or away from the
// configured SNTP source, and work again once it is right.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <thread>

#include "src/base/status_macros.h"
#include "src/base/testing/sntp_responder.h"
#include "src/core/backend.h"
#include "src/core/testing/token_test.h"
#include "src/storage/store.h"

namespace certvault::core {
namespace {

using certvault::testing::kUserPin;
using certvault::testing::Pin;

const Mechanism kEcdsa{CKM_ECDSA, {}};
const uint8_t kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

class TrustedTimeTest : public certvault::testing::TokenTest {
 protected:
  std::string ExtraConfig() const override { return extra_; }
  // RaiseFloor: what a process with a clock `ahead` seconds fast recorded.
  void RaiseFloor(int64_t ahead) {
    storage::StoreOptions options;
    auto store = storage::OpenStore(dir_ + "/vault/vault.db", options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->RaiseTrustedTime(static_cast<int64_t>(std::time(nullptr)) + ahead).ok());
  }
  ObjectHandle GenerateEc(SessionHandle s) {
    AttributeSet pub, priv;
    pub.Set(CKA_EC_PARAMS, kP256);
    priv.SetBool(CKA_SIGN, true);
    auto kp = backend_->GenerateKeyPair(s, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv);
    EXPECT_TRUE(kp.ok()) << kp.status().ToString();
    return kp.ok() ? kp->private_key : 0;
  }
  Status SignOnce(SessionHandle s, ObjectHandle key) {
    CV_RETURN_IF_ERROR(backend_->SignInit(s, kEcdsa, key));
    Bytes data(32, 1), sig(128);
    size_t len = sig.size();
    return backend_->Sign(s, data, OutBuf{sig.data(), &len});
  }
  Status LoginFromNewProcess() {
    std::unique_ptr<Backend> other = Open();
    auto s = other->OpenSession(slot_, CKF_SERIAL_SESSION);
    if (!s.ok()) return s.status();
    return other->Login(*s, UserType::kUser, Pin(kUserPin));
  }

  std::string extra_ = "time_check_interval_s = 1\n";
};

TEST_F(TrustedTimeTest, ClockBehindTheLatestTrustedTimeStopsLoginAndSigning) {
  SessionHandle s = UserSession();
  ObjectHandle key = GenerateEc(s);
  ASSERT_TRUE(SignOnce(s, key).ok());
  RaiseFloor(3600);  // another process ran an hour ahead: our clock is "back"
  // The full check runs again after time_check_interval_s (and retry_s).
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  Status st = SignOnce(s, key);
  EXPECT_EQ(st.reason(), Reason::kDeviceError) << st.ToString();
  EXPECT_NE(st.message().find("behind the latest trusted time"), std::string::npos) << st.ToString();
  Status login = LoginFromNewProcess();
  EXPECT_EQ(login.reason(), Reason::kDeviceError) << login.ToString();
  // Both refusals are in the event log (issue 17: "audited").
  auto store = storage::OpenStore(dir_ + "/vault/vault.db", storage::StoreOptions{});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::vector<storage::EventRow> events;
  ASSERT_TRUE((*store)
                  ->ForEachEvent(slot_,
                                 [&](const storage::EventRow& e) {
                                   events.push_back(e);
                                   return OkStatus();
                                 })
                  .ok());
  ASSERT_GE(events.size(), 2u);
  const storage::EventRow& sign = events[events.size() - 2];
  EXPECT_EQ(sign.action, "clock_refused");
  EXPECT_EQ(sign.target_id, key);
  EXPECT_NE(sign.detail.find("behind the latest trusted time"), std::string::npos) << sign.detail;
  EXPECT_EQ(events.back().action, "login");
  EXPECT_NE(events.back().detail.find("behind the latest trusted time"), std::string::npos) << events.back().detail;
}

TEST_F(TrustedTimeTest, RecentFloorWithinToleranceIsAccepted) {
  RaiseFloor(1);  // default tolerance: 2 s
  EXPECT_TRUE(LoginFromNewProcess().ok());
}

class TrustedTimeSourceTest : public TrustedTimeTest {
 protected:
  void SetUp() override {}  // each test starts its own source first
  void Start(int64_t offset) {
    source_ = std::make_unique<certvault::testing::SntpResponder>(offset);
    extra_ = "time_source = " + source_->url() + "\nmax_clock_offset_s = 10\n";
    TrustedTimeTest::SetUp();
  }
  std::unique_ptr<certvault::testing::SntpResponder> source_;
};

TEST_F(TrustedTimeSourceTest, AgreeingSourceAllowsSigning) {
  Start(3);
  SessionHandle s = UserSession();
  EXPECT_TRUE(SignOnce(s, GenerateEc(s)).ok());
}

TEST_F(TrustedTimeSourceTest, SourceBeyondTheBoundRefusesLoginUntilItAgrees) {
  Start(0);
  source_->set_offset(3600);  // the local clock is an hour behind the source
  Status st = LoginFromNewProcess();
  EXPECT_EQ(st.reason(), Reason::kDeviceError) << st.ToString();
  EXPECT_NE(st.message().find("away from ntp://127.0.0.1:"), std::string::npos) << st.ToString();
  source_->set_offset(-9);  // within the bound
  EXPECT_TRUE(LoginFromNewProcess().ok());
}

}  // namespace
}  // namespace certvault::core
