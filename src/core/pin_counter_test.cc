// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The PIN retry counter against a local process that edits vault.db with
// SQL (docs/threat-model.md), the PIN policy, and C_Login without a PIN.
#include "src/core/pin_counter.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "src/core/auth.h"
#include "src/core/backend.h"
#include "src/crypto/aead.h"
#include "src/crypto/kdf.h"
#include "src/base/byte_reader.h"

namespace certvault {
namespace {

constexpr char kSoPin[] = "so-pin-1234";
constexpr char kUserPin[] = "user-pin-1234";

SecretBytes Pin(std::string_view p) { return SecretBytes(p, SecretAccess::Get()); }

class PinCounterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cv-counter-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    conf_ = dir_ + "/certvault.conf";
    std::ofstream(conf_) << "[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\npin_max_tries = 3\n";
    backend_ = Open(false);
  }
  void TearDown() override {
    backend_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<Backend> Open(bool allow_weak_pin) {
    BackendOptions options;
    options.vault_dir = dir_ + "/vault";
    options.config_path = conf_;
    options.create_vault = true;
    options.allow_weak_pin = allow_weak_pin;
    auto b = OpenEmbeddedBackend(options);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return std::move(*b);
  }
  // InitToken: a token with a user PIN; returns a R/W public session on it.
  SessionHandle InitToken() {
    slot_ = backend_->GetSlotList(true)->back();
    EXPECT_TRUE(backend_->InitToken(slot_, Pin(kSoPin), "test").ok());
    SessionHandle s = *backend_->OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    EXPECT_TRUE(backend_->Login(s, UserType::kSo, Pin(kSoPin)).ok());
    EXPECT_TRUE(backend_->InitPin(s, Pin(kUserPin)).ok());
    EXPECT_TRUE(backend_->Logout(s).ok());
    return s;
  }
  // Sql: what a local process with write access to vault.db can do.
  void Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/vault/vault.db").c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  int64_t SqlInt(const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_stmt* stmt = nullptr;
    int64_t out = -1;
    if (sqlite3_open((dir_ + "/vault/vault.db").c_str(), &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
      out = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }
  int64_t UserAttempts() { return SqlInt("SELECT value FROM meta WHERE key = 'auth/" + std::to_string(slot_) + "/1/attempts'"); }
  void LockUserPin(SessionHandle s) {
    for (int i = 0; i < 3; ++i) (void)backend_->Login(s, UserType::kUser, Pin("wrong-pin"));
    ASSERT_EQ(backend_->Login(s, UserType::kUser, Pin(kUserPin)).reason(), Reason::kPinLocked);
  }

  std::string dir_, conf_;
  SlotId slot_ = 0;
  std::unique_ptr<Backend> backend_;
};

TEST_F(PinCounterTest, SqlResetOfALockedPinIsSeenBeforeTheKdf) {
  SessionHandle s = InitToken();
  LockUserPin(s);
  Sql("UPDATE auth SET tries_left = max_tries");
  const int64_t attempts = UserAttempts();
  EXPECT_EQ(backend_->Login(s, UserType::kUser, Pin(kUserPin)).reason(), Reason::kPinLocked);
  EXPECT_EQ(backend_->Login(s, UserType::kUser, Pin("another-guess")).reason(), Reason::kPinLocked);
  EXPECT_EQ(UserAttempts(), attempts);  // refused before the try was counted, so before the KDF
  EXPECT_TRUE(backend_->GetTokenInfo(slot_)->flags & CKF_USER_PIN_LOCKED);
  // Raising max_tries too does not help.
  Sql("UPDATE auth SET tries_left = 100, max_tries = 100 WHERE role = 1");
  EXPECT_EQ(backend_->Login(s, UserType::kUser, Pin(kUserPin)).reason(), Reason::kPinLocked);
  // The SO's reset is the way back.
  ASSERT_TRUE(backend_->Login(s, UserType::kSo, Pin(kSoPin)).ok());
  ASSERT_TRUE(backend_->InitPin(s, Pin("new-user-pin")).ok());
  ASSERT_TRUE(backend_->Logout(s).ok());
  EXPECT_TRUE(backend_->Login(s, UserType::kUser, Pin("new-user-pin")).ok());
}

TEST_F(PinCounterTest, ResetAfterSomeFailuresIsSeenToo) {
  SessionHandle s = InitToken();
  EXPECT_EQ(backend_->Login(s, UserType::kUser, Pin("wrong-pin")).reason(), Reason::kPinIncorrect);
  EXPECT_EQ(backend_->Login(s, UserType::kUser, Pin("wrong-pin")).reason(), Reason::kPinIncorrect);
  Sql("UPDATE auth SET tries_left = max_tries WHERE role = 1");
  EXPECT_EQ(backend_->Login(s, UserType::kUser, Pin(kUserPin)).reason(), Reason::kPinLocked);
  EXPECT_TRUE(backend_->GetTokenInfo(slot_)->flags & CKF_USER_PIN_LOCKED);
  EXPECT_FALSE(backend_->GetTokenInfo(slot_)->flags & CKF_SO_PIN_LOCKED);  // the SO's counter is its own
}

// Moving the anchor forward as well (so the counts agree again) is caught by
// the anchor's tag once the correct PIN is given: still locked.
TEST_F(PinCounterTest, ForgedAnchorLocksEvenTheCorrectPin) {
  SessionHandle s = InitToken();
  LockUserPin(s);
  const std::string key = "'auth/" + std::to_string(slot_) + "/1/anchor'";
  // anchor = version u8 | a0 u64 | ...: set a0 to the current attempts (3).
  Sql("UPDATE meta SET value = substr(value, 1, 1) || x'0000000000000003' || substr(value, 10) WHERE key = " + key);
  Sql("UPDATE auth SET tries_left = max_tries WHERE role = 1");
  EXPECT_EQ(backend_->Login(s, UserType::kUser, Pin("wrong-pin")).reason(), Reason::kPinIncorrect);  // consistent
  EXPECT_EQ(backend_->Login(s, UserType::kUser, Pin(kUserPin)).reason(), Reason::kPinLocked);
}

TEST_F(PinCounterTest, CorrectPinResetsTheCounterAndKeepsItConsistent) {
  SessionHandle s = InitToken();
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(backend_->Login(s, UserType::kUser, Pin("wrong-pin")).reason(), Reason::kPinIncorrect);
    EXPECT_EQ(backend_->Login(s, UserType::kUser, Pin("wrong-pin")).reason(), Reason::kPinIncorrect);
    ASSERT_TRUE(backend_->Login(s, UserType::kUser, Pin(kUserPin)).ok()) << round;
    ASSERT_TRUE(backend_->Logout(s).ok());
  }
  EXPECT_EQ(UserAttempts(), 9);
  EXPECT_FALSE(backend_->GetTokenInfo(slot_)->flags & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_LOCKED));
}

TEST_F(PinCounterTest, VersionCannotBeTurnedBackToTheUncountedFormat) {
  SessionHandle s = InitToken();
  // KDF record byte 5 is its version: 2 -> 1 would skip the counter checks,
  // but the version is in the token key's AAD, so the right PIN stops working.
  Sql("UPDATE auth SET kdf = substr(kdf, 1, 4) || x'01' || substr(kdf, 6) WHERE role = 1");
  EXPECT_EQ(backend_->Login(s, UserType::kUser, Pin(kUserPin)).reason(), Reason::kPinIncorrect);
}

// A vault written before the counter existed (KDF record version 1, no
// anchor) keeps working and is re-sealed with a counter at the next login.
TEST_F(PinCounterTest, VersionOneRowIsUpgradedAtTheNextCorrectPin) {
  SessionHandle s = InitToken();
  {
    storage::StoreOptions options;
    auto store = storage::OpenStore(dir_ + "/vault/vault.db", options);
    ASSERT_TRUE(store.ok());
    storage::AuthRow row = *(*store)->GetAuth(slot_, storage::Role::kUser);
    auto key = core::OpenTokenKey(row, Pin(kUserPin));
    ASSERT_TRUE(key.ok());
    core::PinKdf kdf = *core::DecodeKdf(row.kdf);
    kdf.version = core::kKdfVersionLegacy;
    auto kek = crypto::DeriveArgon2id(Pin(kUserPin), kdf.salt, kdf.params, core::kTokenKeySize);
    ASSERT_TRUE(kek.ok());
    std::string_view label = "certvault token key v1";
    Bytes aad(label.begin(), label.end());
    ByteWriter<Bytes> w(&aad);
    w.WriteU64(slot_);
    w.WriteU8(1);
    auto sealed = crypto::AeadSeal(*kek, aad, key->Bytes(SecretAccess::Get()));
    ASSERT_TRUE(sealed.ok());
    row.kdf = core::EncodeKdf(kdf);
    row.wrapped_key.assign(sealed->begin(), sealed->end());
    row.anchor.clear();
    ASSERT_TRUE((*store)->PutAuth(row).ok());
    EXPECT_FALSE(*core::HasCountedKdf(*(*store)->GetAuth(slot_, storage::Role::kUser)));
  }
  EXPECT_EQ(backend_->Login(s, UserType::kUser, Pin("wrong-pin")).reason(), Reason::kPinIncorrect);
  ASSERT_TRUE(backend_->Login(s, UserType::kUser, Pin(kUserPin)).ok());
  ASSERT_TRUE(backend_->Logout(s).ok());
  storage::StoreOptions options;
  auto store = storage::OpenStore(dir_ + "/vault/vault.db", options);
  storage::AuthRow row = *(*store)->GetAuth(slot_, storage::Role::kUser);
  EXPECT_TRUE(*core::HasCountedKdf(row));
  EXPECT_TRUE(core::CheckCounterConsistent(row).ok());
  EXPECT_EQ(row.tries_left, row.max_tries);
  Sql("UPDATE auth SET tries_left = 1 WHERE role = 1");  // now edits are seen
  EXPECT_EQ(backend_->Login(s, UserType::kUser, Pin(kUserPin)).reason(), Reason::kPinLocked);
}

TEST_F(PinCounterTest, EmptyPinIsArgumentsBadAndNotCounted) {
  SessionHandle s = InitToken();
  EXPECT_EQ(backend_->Login(s, UserType::kUser, SecretBytes()).reason(), Reason::kArgumentsBad);
  EXPECT_EQ(backend_->Login(s, UserType::kSo, SecretBytes()).reason(), Reason::kArgumentsBad);
  EXPECT_EQ(UserAttempts(), 0);
  EXPECT_FALSE(backend_->GetTokenInfo(slot_)->flags & (CKF_USER_PIN_COUNT_LOW | CKF_SO_PIN_COUNT_LOW));
}

TEST_F(PinCounterTest, PinPolicyDefaultsAndWeakPinOverride) {
  SlotId slot = backend_->GetSlotList(true)->back();
  EXPECT_EQ(backend_->GetTokenInfo(slot)->min_pin_len, 6u);
  EXPECT_EQ(backend_->InitToken(slot, Pin("1234567"), "t").reason(), Reason::kPinLenRange);  // SO: 8
  ASSERT_TRUE(backend_->InitToken(slot, Pin("12345678"), "t").ok());
  SessionHandle s = *backend_->OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  ASSERT_TRUE(backend_->Login(s, UserType::kSo, Pin("12345678")).ok());
  EXPECT_EQ(backend_->InitPin(s, Pin("12345")).reason(), Reason::kPinLenRange);  // user: 6
  EXPECT_TRUE(backend_->InitPin(s, Pin("123456")).ok());
  ASSERT_TRUE(backend_->CloseSession(s).ok());
  backend_ = Open(/*allow_weak_pin=*/true);
  EXPECT_EQ(backend_->GetTokenInfo(slot)->min_pin_len, 4u);
  s = *backend_->OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  EXPECT_EQ(backend_->SetPin(s, Pin("123456"), Pin("123")).reason(), Reason::kPinLenRange);
  EXPECT_TRUE(backend_->SetPin(s, Pin("123456"), Pin("1234")).ok());
  EXPECT_TRUE(backend_->Login(s, UserType::kUser, Pin("1234")).ok());
}

}  // namespace
}  // namespace certvault
