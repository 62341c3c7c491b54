// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// One round trip per signature (src/ipc/client_sign.cc): a repeated
// C_SignInit is answered by the client and sent with C_Sign. This
// application's own calls give the same results as the embedded backend, in
// the same order; only another application's change in between shows, as
// documented (docs/design/daemon.md).
#include <chrono>
#include <thread>
#include <vector>

#include "daemon/daemon_test_fixture.h"

namespace certvault::daemon {
namespace {

const Mechanism kEcdsa{CKM_ECDSA, {}};

Status SignNow(Backend* b, SessionHandle s, uint8_t* sig = nullptr, size_t* len = nullptr) {
  uint8_t digest[32] = {9}, own[80];
  size_t own_len = sizeof own;
  return b->Sign(s, digest, OutBuf{sig ? sig : own, len ? len : &own_len});
}

class DaemonSignTest : public DaemonTest {
 protected:
  // OwnCalls: signing interleaved with this application's own changes; the
  // reason of every call, in order.
  std::vector<Reason> OwnCalls(Backend* b) {
    SlotId slot;
    SessionHandle s = InitToken(b, &slot);
    ObjectHandle key = GenerateEc(b, s);
    std::vector<Reason> r;
    auto add = [&r](const Status& st) { r.push_back(st.reason()); };
    add(SignOnce(b, s, key));              // the daemon says this SignInit may be repeated
    add(b->SignInit(s, kEcdsa, key));      // answered by the client
    add(b->SignInit(s, kEcdsa, key));      // an operation is active
    add(b->DestroyObject(s, key));         // the pending SignInit reaches the daemon first
    add(SignNow(b, s));                    // so the operation still has its key
    add(b->SignInit(s, kEcdsa, key));      // gone now
    ObjectHandle other = GenerateEc(b, s);
    add(SignOnce(b, s, other));
    add(b->SignInit(s, kEcdsa, other));
    size_t len = 0;
    add(b->Sign(s, std::span<const uint8_t>(), OutBuf{nullptr, &len}));  // a length query keeps it
    add(SignNow(b, s));
    add(SignNow(b, s));                    // ended
    add(b->SignInit(s, kEcdsa, other));
    add(b->CancelOperation(s, Backend::OperationKind::kSign));
    add(SignNow(b, s));                    // cancelled
    add(SignOnce(b, s, other));
    add(b->SignInit(s, kEcdsa, other));
    add(b->Logout(s));                     // the pending SignInit goes first here too
    add(SignNow(b, s));
    add(b->SignInit(s, kEcdsa, other));
    return r;
  }
};

TEST_F(DaemonSignTest, OwnCallsGiveTheEmbeddedResults) {
  StartServer();
  auto daemon = Client();
  std::vector<Reason> via_daemon = OwnCalls(daemon.get());
  auto embedded = OpenEmbeddedBackend(BackendOptions{dir_ + "/embedded", conf_, true});
  ASSERT_TRUE(embedded.ok());
  std::vector<Reason> in_process = OwnCalls(embedded->get());
  EXPECT_EQ(via_daemon, in_process);
  ASSERT_EQ(via_daemon.size(), 19u);
  EXPECT_EQ(via_daemon[1], Reason::kNone);
  EXPECT_EQ(via_daemon[2], Reason::kOperationActive);
  EXPECT_EQ(via_daemon[4], Reason::kNone);
  EXPECT_EQ(via_daemon[5], Reason::kKeyHandleInvalid);
  EXPECT_EQ(via_daemon[10], Reason::kOperationNotInitialized);
  EXPECT_EQ(via_daemon[13], Reason::kOperationNotInitialized);
}

TEST_F(DaemonSignTest, SignaturesFromTheOneRoundTripPathVerify) {
  StartServer();
  auto b = Client();
  SlotId slot;
  SessionHandle s = InitToken(b.get(), &slot);
  AttributeSet pub, priv;
  pub.Set(CKA_EC_PARAMS, kP256);
  priv.SetBool(CKA_SIGN, true);
  auto kp = b->GenerateKeyPair(s, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv);
  ASSERT_TRUE(kp.ok());
  for (int i = 0; i < 3; ++i) {  // the first SignInit asks the daemon, the others are answered by the client
    ASSERT_TRUE(b->SignInit(s, kEcdsa, kp->private_key).ok());
    uint8_t digest[32] = {static_cast<uint8_t>(i)}, sig[64];
    size_t len = sizeof sig;
    ASSERT_TRUE(b->Sign(s, digest, OutBuf{sig, &len}).ok());
    ASSERT_EQ(len, 64u);
    ASSERT_TRUE(b->VerifyInit(s, kEcdsa, kp->public_key).ok());
    EXPECT_TRUE(b->Verify(s, digest, std::span<const uint8_t>(sig, len)).ok()) << i;
  }
}

// Another application destroys the key between this one's signatures: the
// SignInit answered by the client succeeds, and C_Sign reports the change.
// After kAnswerWindow (100 ms) the client asks the daemon again.
TEST_F(DaemonSignTest, AnotherApplicationsChangeShowsAtCSign) {
  StartServer();
  auto a = Client();
  SlotId slot;
  SessionHandle s = InitToken(a.get(), &slot);
  ObjectHandle quick = GenerateEc(a.get(), s), slow = GenerateEc(a.get(), s);
  ASSERT_TRUE(SignOnce(a.get(), s, quick).ok());
  ASSERT_TRUE(SignOnce(a.get(), s, slow).ok());
  auto b = Client();
  SessionHandle t = *b->OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  ASSERT_TRUE(b->Login(t, UserType::kUser, Pin(kUserPin)).ok());
  ASSERT_TRUE(b->DestroyObject(t, slow).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_EQ(a->SignInit(s, kEcdsa, slow).reason(), Reason::kKeyHandleInvalid);
  ASSERT_TRUE(SignOnce(a.get(), s, quick).ok());
  ASSERT_TRUE(b->DestroyObject(t, quick).ok());
  ASSERT_TRUE(a->SignInit(s, kEcdsa, quick).ok());  // the client answered: one round trip saved
  EXPECT_EQ(SignNow(a.get(), s).reason(), Reason::kFunctionFailed);
  EXPECT_EQ(a->SignInit(s, kEcdsa, quick).reason(), Reason::kKeyHandleInvalid);
}

}  // namespace
}  // namespace certvault::daemon

namespace certvault::daemon {
namespace {

// CKA_ALWAYS_AUTHENTICATE over the wire: C_Login(CKU_CONTEXT_SPECIFIC) goes
// to the daemon like any login, and the SignInit the client answers itself
// (one round trip per signature) must not let a signature through without it.
class DaemonAlwaysAuthTest : public DaemonTest {
 protected:
  std::vector<Reason> AlwaysAuthCalls(Backend* b);
};

std::vector<Reason> DaemonAlwaysAuthTest::AlwaysAuthCalls(Backend* b) {
  SlotId slot;
  SessionHandle s = InitToken(b, &slot);
  AttributeSet pub, priv;
  pub.Set(CKA_EC_PARAMS, kP256);
  pub.SetBool(CKA_TOKEN, true);
  priv.SetBool(CKA_TOKEN, true);
  priv.SetBool(CKA_SIGN, true);
  priv.SetBool(CKA_ALWAYS_AUTHENTICATE, true);
  auto kp = b->GenerateKeyPair(s, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv);
  EXPECT_TRUE(kp.ok()) << kp.status().ToString();
  const ObjectHandle key = kp.ok() ? kp->private_key : 0;
  std::vector<Reason> r;
  auto add = [&r](const Status& st) { r.push_back(st.reason()); };
  add(b->Login(s, UserType::kContextSpecific, Pin(kUserPin)));  // no operation
  for (int i = 0; i < 3; ++i) {
    add(b->SignInit(s, kEcdsa, key));
    add(SignNow(b, s));  // no context login: refused, and the operation ends
  }
  for (int i = 0; i < 3; ++i) {
    add(b->SignInit(s, kEcdsa, key));
    add(b->Login(s, UserType::kContextSpecific, Pin(kUserPin)));
    add(SignNow(b, s));
  }
  add(b->SignInit(s, kEcdsa, key));
  add(b->Login(s, UserType::kContextSpecific, Pin("wrong-pin-00")));
  add(SignNow(b, s));
  return r;
}

TEST_F(DaemonAlwaysAuthTest, GivesTheEmbeddedResults) {
  StartServer();
  auto daemon = Client();
  std::vector<Reason> via_daemon = AlwaysAuthCalls(daemon.get());
  auto embedded = OpenEmbeddedBackend(BackendOptions{dir_ + "/embedded", conf_, true});
  ASSERT_TRUE(embedded.ok());
  EXPECT_EQ(via_daemon, AlwaysAuthCalls(embedded->get()));
  const std::vector<Reason> expected = {
      Reason::kOperationNotInitialized,
      Reason::kNone, Reason::kUserNotLoggedIn, Reason::kNone, Reason::kUserNotLoggedIn,
      Reason::kNone, Reason::kUserNotLoggedIn,
      Reason::kNone, Reason::kNone, Reason::kNone, Reason::kNone, Reason::kNone, Reason::kNone,
      Reason::kNone, Reason::kNone, Reason::kNone,
      Reason::kNone, Reason::kPinIncorrect, Reason::kUserNotLoggedIn};
  EXPECT_EQ(via_daemon, expected);
}

}  // namespace
}  // namespace certvault::daemon
