// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The downgrade of a token's integrity state (docs/formats/integrity.md, "The
// state is anchored in the PIN records"): an emptied tokens.integrity with
// stripped record MACs is refused at login when a PIN record of the token is
// version 2; a legacy token is upgraded once, in one transaction with the
// re-seal of its PIN record.
#include "src/core/integrity_test_fixture.h"

namespace certvault {
namespace {

// The downgrade: an attacker empties the state of a token written by this
// build and strips the record MACs (here after making a key exportable), so
// that the token looks legacy. Its PIN records are version 2, which cannot be
// turned back without the PIN: the login is refused, nothing is re-MACed.
TEST_F(IntegrityTest, RemovedStateOfATokenOfThisBuildRefusesLogin) {
  ObjectHandle victim = GenerateAes("victim", false);
  EditRecord(victim, CKA_SENSITIVE, {0});
  EditRecord(victim, CKA_EXTRACTABLE, {1});
  StripMacs({victim});
  Sql("UPDATE tokens SET integrity = x''");
  Status st = Restart();
  ExpectRefused(st);  // CKR_DEVICE_ERROR in the module (src/pkcs11/ckrv.cc)
  EXPECT_NE(st.message().find("state was removed"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("backup"), std::string::npos) << st.ToString();
  ExpectRefused(backend_->Login(session_, UserType::kSo, Pin(kSoPin)));
  EXPECT_EQ(StateSize(), 0);
  EXPECT_EQ(GetRow(victim).version, 1);  // not re-MACed
  // The named fix: re-initializing the token (needs only the SO PIN).
  ASSERT_TRUE(backend_->CloseAllSessions(slot_).ok());
  ASSERT_TRUE(backend_->InitToken(slot_, Pin(kSoPin), "test").ok());
  auto so = backend_->OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  ASSERT_TRUE(so.ok());
  ASSERT_TRUE(backend_->Login(*so, UserType::kSo, Pin(kSoPin)).ok());
  ASSERT_TRUE(backend_->InitPin(*so, Pin(kUserPin)).ok());
  ASSERT_TRUE(Restart().ok());
}

// A legacy token is trusted once; its re-sealed PIN record then anchors the
// state, for both roles: the SO's record is still version 1, but the user's
// is version 2 now.
TEST_F(IntegrityTest, LegacyTokenIsUpgradedOnceThenARemovedStateRefusesLogin) {
  Backend::KeyPair a = GenerateEc("a", {1});
  MakeLegacyToken({a.private_key, a.public_key});
  ASSERT_TRUE(Restart().ok());
  EXPECT_TRUE(PinRecordCounted(storage::Role::kUser));
  EXPECT_FALSE(PinRecordCounted(storage::Role::kSo));
  EXPECT_GT(StateSize(), 0);
  StripMacs({a.private_key, a.public_key});
  Sql("UPDATE tokens SET integrity = x''");
  ExpectRefused(Restart());
  ExpectRefused(backend_->Login(session_, UserType::kSo, Pin(kSoPin)));
  EXPECT_EQ(StateSize(), 0);
}

// The same when the SO logged in first: the user's record is still version
// 1, the SO's anchors the state; deleting the SO's record does not help.
TEST_F(IntegrityTest, UpgradeByTheSoAnchorsTheStateForTheUser) {
  Backend::KeyPair a = GenerateEc("a", {1});
  MakeLegacyToken({a.private_key, a.public_key});
  backend_.reset();
  backend_ = Open();
  auto so = backend_->OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  ASSERT_TRUE(so.ok());
  ASSERT_TRUE(backend_->Login(*so, UserType::kSo, Pin(kSoPin)).ok());
  EXPECT_TRUE(PinRecordCounted(storage::Role::kSo));
  EXPECT_FALSE(PinRecordCounted(storage::Role::kUser));
  EXPECT_GT(StateSize(), 0);
  StripMacs({a.private_key, a.public_key});
  Sql("UPDATE tokens SET integrity = x''");
  ExpectRefused(Restart());
  Sql("DELETE FROM auth WHERE token_id = " + std::to_string(slot_) + " AND role = 0");
  ExpectRefused(Restart());
  EXPECT_EQ(StateSize(), 0);
}

// The upgrade and the re-seal of the PIN record are one transaction: when
// either write fails (as a crash would end it), the other is rolled back too,
// so the token is still a legacy token (state empty, record version 1), and
// the next login upgrades it. A version 2 record beside an empty state would
// be refused as a downgrade from then on.
TEST_F(IntegrityTest, InterruptedUpgradeLeavesALegacyToken) {
  Backend::KeyPair a = GenerateEc("a", {1});
  MakeLegacyToken({a.private_key, a.public_key});
  for (const char* write : {"UPDATE ON tokens", "INSERT ON auth"}) {
    SCOPED_TRACE(write);
    backend_.reset();
    Sql(std::string("CREATE TRIGGER crash BEFORE ") + write + " BEGIN SELECT RAISE(ABORT, 'crash'); END");
    EXPECT_FALSE(Restart().ok());
    backend_.reset();
    Sql("DROP TRIGGER crash");
    EXPECT_EQ(StateSize(), 0);
    EXPECT_FALSE(PinRecordCounted(storage::Role::kUser));
    EXPECT_EQ(GetRow(a.private_key).version, 1);
  }
  ASSERT_TRUE(Restart().ok());
  EXPECT_TRUE(PinRecordCounted(storage::Role::kUser));
  EXPECT_GT(StateSize(), 0);
  EXPECT_TRUE(SignStatus(a.private_key).ok());
}

// The other order, state written but PIN record still version 1 (a token
// whose other role upgraded it, or one upgraded by an earlier build of this
// scheme), is an upgraded token: the login verifies the state and re-seals.
TEST_F(IntegrityTest, StateWithAVersionOnePinRecordLogsIn) {
  Backend::KeyPair a = GenerateEc("a", {1});
  MakeLegacyPinRecord(storage::Role::kUser, kUserPin);
  MakeLegacyPinRecord(storage::Role::kSo, kSoPin);
  ASSERT_TRUE(Restart().ok());
  EXPECT_TRUE(PinRecordCounted(storage::Role::kUser));
  EXPECT_EQ(GetRow(a.private_key).version, 1);  // verified, not upgraded again
  EXPECT_TRUE(SignStatus(a.private_key).ok());
}

}  // namespace
}  // namespace certvault
