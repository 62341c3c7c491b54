// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// [daemon] token_access: a peer may open sessions on, and re-initialize,
// only the tokens configured for its user or groups; the others' PINs cannot
// be locked by its wrong guesses.
#include "daemon/token_access.h"

#include <unistd.h>

#include "daemon/daemon_test_fixture.h"

namespace certvault::daemon {
namespace {

TEST(TokenAccessTest, Parses) {
  auto a = ParseTokenAccess("payments: 1000 @0, root ; web:  @65534");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ(a->at("payments").uids, (std::set<uid_t>{0, 1000}));
  EXPECT_EQ(a->at("payments").gids, (std::set<gid_t>{0}));
  EXPECT_EQ(a->at("web").gids, (std::set<gid_t>{65534}));
  for (const char* bad : {"payments", "payments:", ": 1000", "a: 1; a: 2", "a: no-such-user-certvault",
                          "a: @no-such-group-certvault", "this-label-is-longer-than-32-bytes!: 1"}) {
    EXPECT_EQ(ParseTokenAccess(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(ParseTokenAccess("").ok());
}

TEST(TokenAccessTest, Decides) {
  TokenAccess a = *ParseTokenAccess("payments: 1000 @50");
  EXPECT_TRUE(MayUseToken(a, "other", Peer{7, {7}}).ok());  // not listed: open
  EXPECT_TRUE(MayUseToken(a, "payments", Peer{1000, {1000}}).ok());
  EXPECT_TRUE(MayUseToken(a, "payments", Peer{7, {7, 50}}).ok());
  Status denied = MayUseToken(a, "payments", Peer{7, {7}});
  EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.reason(), Reason::kTokenNotRecognized);
}

class TokenAccessDaemonTest : public DaemonTest {
 protected:
  // Two tokens, "app-a" and "app-b", set up with no token_access.
  void SetUpTokens() {
    StartServer();
    auto b = Client();
    for (const char* label : {"app-a", "app-b"}) {
      auto slots = b->GetSlotList(false);
      ASSERT_TRUE(slots.ok());
      SlotId slot = slots->back();  // the free slot
      ASSERT_TRUE(b->InitToken(slot, Pin(kSoPin), label).ok());
      (std::string(label) == "app-a" ? slot_a_ : slot_b_) = slot;
    }
    b.reset();
    StopServer();
  }
  SlotId slot_a_ = 0, slot_b_ = 0;
};

TEST_F(TokenAccessDaemonTest, OnlyConfiguredPeersUseAToken) {
  SetUpTokens();
  const uid_t other = geteuid() + 4242;
  config_.token_access = *ParseTokenAccess("app-a: " + std::to_string(geteuid()) + "; app-b: " + std::to_string(other));
  StartServer();
  auto b = Client();
  auto a = b->OpenSession(slot_a_, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  EXPECT_TRUE(a.ok()) << a.status().ToString();
  auto denied = b->OpenSession(slot_b_, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  EXPECT_EQ(denied.status().reason(), Reason::kTokenNotRecognized) << denied.status().ToString();
  // No SO PIN guess through C_InitToken either: the try counter is untouched.
  EXPECT_EQ(b->InitToken(slot_b_, Pin("wrong-so-pin"), "app-b").reason(), Reason::kTokenNotRecognized);
  auto info = b->GetTokenInfo(slot_b_);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->flags & CKF_SO_PIN_COUNT_LOW, 0u);
  // Control: the same wrong guess on its own token is counted (the flag works).
  ASSERT_TRUE(b->CloseSession(*a).ok());
  EXPECT_EQ(b->InitToken(slot_a_, Pin("wrong-so-pin"), "app-a").reason(), Reason::kPinIncorrect);
  auto info_a = b->GetTokenInfo(slot_a_);
  ASSERT_TRUE(info_a.ok());
  EXPECT_NE(info_a->flags & CKF_SO_PIN_COUNT_LOW, 0u);
  // Nor may it take a configured label for a free slot.
  auto slots = b->GetSlotList(false);
  ASSERT_TRUE(slots.ok());
  EXPECT_EQ(b->InitToken(slots->back(), Pin(kSoPin), "app-b").reason(), Reason::kTokenNotRecognized);
  // A group of the peer opens it.
  b.reset();
  StopServer();
  config_.token_access = *ParseTokenAccess("app-b: 1 @" + std::to_string(getegid()));
  StartServer();
  b = Client();
  EXPECT_TRUE(b->OpenSession(slot_b_, CKF_SERIAL_SESSION).ok());
}

}  // namespace
}  // namespace certvault::daemon
