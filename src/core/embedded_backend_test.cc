// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The embedded backend end to end, through the Backend interface only: the
// same calls the PKCS#11 module and the CLI make.
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <fstream>

#include <gtest/gtest.h>

#include "src/core/backend.h"

namespace certvault {
namespace {

constexpr char kSoPin[] = "so-pin-1234";
constexpr char kUserPin[] = "user-pin-1234";

SecretBytes Pin(std::string_view p) { return SecretBytes(p, SecretAccess::Get()); }

class EmbeddedBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cv-core-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    // Fast KDF for tests; production defaults are exercised by the benchmark.
    conf_ = dir_ + "/certvault.conf";
    std::ofstream(conf_) << "[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\npin_max_tries = 3\n";
    backend_ = Open();
  }
  void TearDown() override {
    backend_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<Backend> Open() {
    BackendOptions options;
    options.vault_dir = dir_ + "/vault";
    options.config_path = conf_;
    options.create_vault = true;
    auto b = OpenEmbeddedBackend(options);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return std::move(*b);
  }
  // InitToken on the free slot + user PIN; returns the slot and an R/W user session.
  void InitToken(SlotId* slot, SessionHandle* session) {
    auto slots = backend_->GetSlotList(true);
    ASSERT_TRUE(slots.ok());
    ASSERT_FALSE(slots->empty());
    *slot = slots->back();
    ASSERT_TRUE(backend_->InitToken(*slot, Pin(kSoPin), "test").ok());
    auto so = backend_->OpenSession(*slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    ASSERT_TRUE(so.ok()) << so.status().ToString();
    ASSERT_TRUE(backend_->Login(*so, UserType::kSo, Pin(kSoPin)).ok());
    ASSERT_TRUE(backend_->InitPin(*so, Pin(kUserPin)).ok());
    ASSERT_TRUE(backend_->Logout(*so).ok());
    auto s = backend_->OpenSession(*slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(backend_->Login(*s, UserType::kUser, Pin(kUserPin)).ok());
    ASSERT_TRUE(backend_->CloseSession(*so).ok());
    *session = *s;
  }
  Status GenerateKeyPairStatus(SessionHandle s) {
    static const uint8_t kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    AttributeSet pub, priv;
    pub.Set(CKA_EC_PARAMS, kP256);
    return backend_->GenerateKeyPair(s, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv).status();
  }
  Backend::KeyPair GenerateEc(SessionHandle s, std::string_view label) {
    static const uint8_t kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    AttributeSet pub, priv;
    pub.Set(CKA_EC_PARAMS, kP256);
    pub.SetBool(CKA_TOKEN, true);
    pub.SetString(CKA_LABEL, label);
    priv.SetBool(CKA_TOKEN, true);
    priv.SetBool(CKA_SIGN, true);
    priv.SetString(CKA_LABEL, label);
    auto kp = backend_->GenerateKeyPair(s, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv);
    EXPECT_TRUE(kp.ok()) << kp.status().ToString();
    return kp.ok() ? *kp : Backend::KeyPair{};
  }
  Bytes Sign(SessionHandle s, ObjectHandle key, MechanismType mech, std::span<const uint8_t> data) {
    EXPECT_TRUE(backend_->SignInit(s, Mechanism{mech, {}}, key).ok());
    size_t len = 0;
    EXPECT_TRUE(backend_->Sign(s, data, OutBuf{nullptr, &len}).ok());
    Bytes sig(len);
    Status st = backend_->Sign(s, data, OutBuf{sig.data(), &len});
    EXPECT_TRUE(st.ok()) << st.ToString();
    sig.resize(len);
    return sig;
  }

  std::string dir_, conf_;
  std::unique_ptr<Backend> backend_;
};

TEST_F(EmbeddedBackendTest, MissingVaultHasNoSlotsAndSaysWhy) {
  BackendOptions options;
  options.vault_dir = dir_ + "/nonexistent";
  options.config_path = conf_;
  auto b = OpenEmbeddedBackend(options);
  ASSERT_TRUE(b.ok());
  auto slots = (*b)->GetSlotList(false);
  ASSERT_TRUE(slots.ok());
  EXPECT_TRUE(slots->empty());
  EXPECT_EQ((*b)->VaultStatus().code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(options.vault_dir));  // reads never create files
}

TEST_F(EmbeddedBackendTest, InitTokenLoginSignVerify) {
  SlotId slot;
  SessionHandle s;
  InitToken(&slot, &s);
  auto info = backend_->GetTokenInfo(slot);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->label, "test");
  EXPECT_TRUE(info->flags & CKF_TOKEN_INITIALIZED);
  EXPECT_TRUE(info->flags & CKF_USER_PIN_INITIALIZED);
  Backend::KeyPair kp = GenerateEc(s, "ec");
  Bytes data(32, 0x5a);
  Bytes sig = Sign(s, kp.private_key, CKM_ECDSA, data);
  EXPECT_EQ(sig.size(), 64u);
  ASSERT_TRUE(backend_->VerifyInit(s, Mechanism{CKM_ECDSA, {}}, kp.public_key).ok());
  EXPECT_TRUE(backend_->Verify(s, data, sig).ok());
  sig[5] ^= 1;
  ASSERT_TRUE(backend_->VerifyInit(s, Mechanism{CKM_ECDSA, {}}, kp.public_key).ok());
  EXPECT_EQ(backend_->Verify(s, data, sig).reason(), Reason::kSignatureInvalid);
}

TEST_F(EmbeddedBackendTest, PrivateKeyIsSensitiveAndDefaultsAreSecure) {
  SlotId slot;
  SessionHandle s;
  InitToken(&slot, &s);
  Backend::KeyPair kp = GenerateEc(s, "ec");
  std::vector<AttributeRequest> req(5);
  req[0].type = CKA_VALUE;
  req[1].type = CKA_SENSITIVE;
  req[2].type = CKA_EXTRACTABLE;
  req[3].type = CKA_LOCAL;
  req[4].type = CKA_ALWAYS_SENSITIVE;
  EXPECT_EQ(backend_->GetAttributeValue(s, kp.private_key, &req).reason(), Reason::kAttributeSensitive);
  EXPECT_EQ(req[0].status, Reason::kAttributeSensitive);
  EXPECT_TRUE(req[0].value.empty());
  EXPECT_EQ(req[1].value, EncodeBool(true));
  EXPECT_EQ(req[2].value, EncodeBool(false));
  EXPECT_EQ(req[3].value, EncodeBool(true));
  EXPECT_EQ(req[4].value, EncodeBool(true));
  // One-way attributes: CKA_SENSITIVE cannot go back to FALSE.
  AttributeSet change;
  change.SetBool(CKA_SENSITIVE, false);
  EXPECT_EQ(backend_->SetAttributeValue(s, kp.private_key, change).reason(), Reason::kAttributeReadOnly);
}

TEST_F(EmbeddedBackendTest, WrongPinCountsDownToLockoutDurably) {
  SlotId slot;
  SessionHandle s;
  InitToken(&slot, &s);
  ASSERT_TRUE(backend_->Logout(s).ok());
  EXPECT_EQ(backend_->Login(s, UserType::kUser, Pin("wrong-pin")).reason(), Reason::kPinIncorrect);
  EXPECT_TRUE(backend_->GetTokenInfo(slot)->flags & CKF_USER_PIN_COUNT_LOW);
  EXPECT_EQ(backend_->Login(s, UserType::kUser, Pin("wrong-pin")).reason(), Reason::kPinIncorrect);
  EXPECT_TRUE(backend_->GetTokenInfo(slot)->flags & CKF_USER_PIN_FINAL_TRY);
  // The counter lives in the vault: a fresh process view sees it too.
  backend_.reset();
  backend_ = Open();
  auto s2 = backend_->OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(backend_->Login(*s2, UserType::kUser, Pin("wrong-pin")).reason(), Reason::kPinLocked);
  EXPECT_EQ(backend_->Login(*s2, UserType::kUser, Pin(kUserPin)).reason(), Reason::kPinLocked);
  EXPECT_TRUE(backend_->GetTokenInfo(slot)->flags & CKF_USER_PIN_LOCKED);
  // The SO resets the user PIN.
  ASSERT_TRUE(backend_->Login(*s2, UserType::kSo, Pin(kSoPin)).ok());
  ASSERT_TRUE(backend_->InitPin(*s2, Pin("new-user-pin")).ok());
  ASSERT_TRUE(backend_->Logout(*s2).ok());
  EXPECT_TRUE(backend_->Login(*s2, UserType::kUser, Pin("new-user-pin")).ok());
}

// More concurrent correct logins than pin_max_tries (3), each from its own
// backend instance (as separate processes would be): the try counter is
// decremented before each check, so without serialized checks the in-flight
// decrements would reach zero and lock a correct PIN (seen with 20 processes).
TEST_F(EmbeddedBackendTest, ConcurrentCorrectLoginsDoNotLockThePin) {
  // A PIN check slow enough (tens of ms, as in production) for the logins to overlap.
  std::ofstream(conf_) << "[vault]\nkdf_memory_kib = 32768\nkdf_iterations = 2\npin_max_tries = 3\n";
  backend_ = Open();
  SlotId slot;
  SessionHandle s;
  InitToken(&slot, &s);
  constexpr int kLogins = 8;
  std::vector<std::unique_ptr<Backend>> instances;
  std::vector<SessionHandle> sessions;
  for (int i = 0; i < kLogins; ++i) {
    instances.push_back(Open());
    auto opened = instances.back()->OpenSession(slot, CKF_SERIAL_SESSION);
    ASSERT_TRUE(opened.ok());
    sessions.push_back(*opened);
  }
  std::atomic<int> ready{0};
  std::vector<Status> results(kLogins);
  std::vector<std::thread> threads;
  for (int i = 0; i < kLogins; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kLogins) std::this_thread::yield();
      results[i] = instances[i]->Login(sessions[i], UserType::kUser, Pin(kUserPin));
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kLogins; ++i) EXPECT_TRUE(results[i].ok()) << i << ": " << results[i].ToString();
  EXPECT_FALSE(backend_->GetTokenInfo(slot)->flags & (CKF_USER_PIN_LOCKED | CKF_USER_PIN_COUNT_LOW));
}

TEST_F(EmbeddedBackendTest, KeysSurviveReopenAndAreFoundByLabel) {
  SlotId slot;
  SessionHandle s;
  InitToken(&slot, &s);
  Backend::KeyPair kp = GenerateEc(s, "persisted");
  backend_.reset();
  backend_ = Open();
  auto s2 = backend_->OpenSession(slot, CKF_SERIAL_SESSION);
  ASSERT_TRUE(s2.ok());
  AttributeSet tmpl;
  tmpl.SetString(CKA_LABEL, "persisted");
  tmpl.SetUlong(CKA_CLASS, CKO_PRIVATE_KEY);
  ASSERT_TRUE(backend_->FindObjectsInit(*s2, tmpl).ok());
  auto found = backend_->FindObjects(*s2, 10);
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->empty());  // private objects need a login
  ASSERT_TRUE(backend_->FindObjectsFinal(*s2).ok());
  ASSERT_TRUE(backend_->Login(*s2, UserType::kUser, Pin(kUserPin)).ok());
  ASSERT_TRUE(backend_->FindObjectsInit(*s2, tmpl).ok());
  found = backend_->FindObjects(*s2, 10);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->front(), kp.private_key);
  Bytes data(32, 1);
  EXPECT_EQ(Sign(*s2, kp.private_key, CKM_ECDSA, data).size(), 64u);
}

TEST_F(EmbeddedBackendTest, BufferSemanticsAndOperationState) {
  SlotId slot;
  SessionHandle s;
  InitToken(&slot, &s);
  Backend::KeyPair kp = GenerateEc(s, "ec");
  ASSERT_TRUE(backend_->SignInit(s, Mechanism{CKM_ECDSA, {}}, kp.private_key).ok());
  EXPECT_EQ(backend_->SignInit(s, Mechanism{CKM_ECDSA, {}}, kp.private_key).reason(), Reason::kOperationActive);
  Bytes data(32, 2);
  uint8_t small[10];
  size_t len = sizeof(small);
  EXPECT_EQ(backend_->Sign(s, data, OutBuf{small, &len}).reason(), Reason::kBufferTooSmall);
  EXPECT_EQ(len, 64u);
  Bytes sig(len);
  EXPECT_TRUE(backend_->Sign(s, data, OutBuf{sig.data(), &len}).ok());  // still active after too-small
  EXPECT_EQ(backend_->Sign(s, data, OutBuf{sig.data(), &len}).reason(), Reason::kOperationNotInitialized);
  EXPECT_EQ(backend_->SignInit(s, Mechanism{CKM_ECDSA, {}}, 12345).reason(), Reason::kKeyHandleInvalid);
  EXPECT_EQ(backend_->SignInit(s, Mechanism{CKM_ECDSA, {}}, kp.public_key).reason(),
            Reason::kKeyFunctionNotPermitted);
  EXPECT_EQ(backend_->CloseSession(999999).reason(), Reason::kSessionHandleInvalid);
}

TEST_F(EmbeddedBackendTest, CapacityLimitsKeyPairs) {
  auto slots = backend_->GetSlotList(true);
  ASSERT_TRUE(slots.ok());
  Backend::TokenOptions options;
  options.capacity = 1;
  ASSERT_TRUE(backend_->InitTokenWithOptions(slots->back(), Pin(kSoPin), "small", options).ok());
  auto so = backend_->OpenSession(slots->back(), CKF_SERIAL_SESSION | CKF_RW_SESSION);
  ASSERT_TRUE(so.ok());
  ASSERT_TRUE(backend_->Login(*so, UserType::kSo, Pin(kSoPin)).ok());
  ASSERT_TRUE(backend_->InitPin(*so, Pin(kUserPin)).ok());
  ASSERT_TRUE(backend_->Logout(*so).ok());
  ASSERT_TRUE(backend_->Login(*so, UserType::kUser, Pin(kUserPin)).ok());
  GenerateEc(*so, "first");
  static const uint8_t kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
  AttributeSet pub, priv;
  pub.Set(CKA_EC_PARAMS, kP256);
  pub.SetBool(CKA_TOKEN, true);
  priv.SetBool(CKA_TOKEN, true);
  auto kp = backend_->GenerateKeyPair(*so, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv);
  EXPECT_EQ(kp.status().reason(), Reason::kCapacityExceeded);
}

TEST_F(EmbeddedBackendTest, SecretsAreSealedAtRest) {
  SlotId slot;
  SessionHandle s;
  InitToken(&slot, &s);
  AttributeSet data;
  data.SetUlong(CKA_CLASS, CKO_DATA);
  data.SetBool(CKA_TOKEN, true);
  data.SetBool(CKA_PRIVATE, true);
  data.SetString(CKA_LABEL, "note");
  const std::string secret = "the-plaintext-that-must-not-hit-disk";
  data.SetString(CKA_VALUE, secret);
  auto obj = backend_->CreateObject(s, data);
  ASSERT_TRUE(obj.ok()) << obj.status().ToString();
  backend_.reset();
  std::string db;
  for (const auto& e : std::filesystem::directory_iterator(dir_ + "/vault")) {
    std::ifstream in(e.path(), std::ios::binary);
    db += std::string(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_EQ(db.find(secret), std::string::npos);
  EXPECT_NE(db.find("note"), std::string::npos);  // sanity: the file was read
}

TEST_F(EmbeddedBackendTest, AnotherInstanceSeesDestroyedKeyAtOnce) {
  SlotId slot;
  SessionHandle s;
  InitToken(&slot, &s);
  Backend::KeyPair kp = GenerateEc(s, "shared");
  // A second backend on the same vault stands for another process.
  std::unique_ptr<Backend> other = Open();
  auto s2 = other->OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  ASSERT_TRUE(s2.ok());
  ASSERT_TRUE(other->Login(*s2, UserType::kUser, Pin(kUserPin)).ok());
  Bytes data(32, 3);
  ASSERT_TRUE(other->SignInit(*s2, Mechanism{CKM_ECDSA, {}}, kp.private_key).ok());  // now cached there
  size_t len = 64;
  Bytes sig(len);
  ASSERT_TRUE(other->Sign(*s2, data, OutBuf{sig.data(), &len}).ok());
  ASSERT_TRUE(backend_->DestroyObject(s, kp.private_key).ok());
  EXPECT_EQ(other->SignInit(*s2, Mechanism{CKM_ECDSA, {}}, kp.private_key).reason(), Reason::kKeyHandleInvalid);
}

TEST_F(EmbeddedBackendTest, ThreadsSignOnTheirSessionsWhileObjectsChange) {
  SlotId slot;
  SessionHandle s;
  InitToken(&slot, &s);
  Backend::KeyPair kp = GenerateEc(s, "threads");
  std::atomic<int> failures{0};
  auto signer = [&] {
    auto mine = backend_->OpenSession(slot, CKF_SERIAL_SESSION);
    if (!mine.ok()) return ++failures, void();
    Bytes data(32, 7);
    for (int i = 0; i < 200; ++i) {
      size_t len = 64;
      uint8_t sig[64];
      if (!backend_->SignInit(*mine, Mechanism{CKM_ECDSA, {}}, kp.private_key).ok() ||
          !backend_->Sign(*mine, data, OutBuf{sig, &len}).ok()) {
        ++failures;
      }
    }
    (void)backend_->CloseSession(*mine);
  };
  auto writer = [&] {
    for (int i = 0; i < 20; ++i) {
      AttributeSet data;
      data.SetUlong(CKA_CLASS, CKO_DATA);
      data.SetBool(CKA_TOKEN, true);
      data.SetBool(CKA_PRIVATE, false);
      data.SetString(CKA_LABEL, "churn");
      auto obj = backend_->CreateObject(s, data);
      if (!obj.ok() || !backend_->DestroyObject(s, *obj).ok()) ++failures;
    }
  };
  std::thread t1(signer), t2(signer), t3(writer);
  t1.join();
  t2.join();
  t3.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(EmbeddedBackendTest, TokenMechanismAllowListIsEnforced) {
  std::ofstream(conf_) << "[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\n"
                       << "[token \"test\"]\nmechanisms = CKM_EC_KEY_PAIR_GEN, CKM_ECDSA\n";
  backend_ = Open();
  SlotId slot;
  SessionHandle s;
  InitToken(&slot, &s);
  auto mechs = backend_->GetMechanismList(slot);
  ASSERT_TRUE(mechs.ok());
  ASSERT_EQ(mechs->size(), 2u);
  Backend::KeyPair kp = GenerateEc(s, "allow");
  EXPECT_TRUE(backend_->SignInit(s, Mechanism{CKM_ECDSA, {}}, kp.private_key).ok());
  EXPECT_TRUE(backend_->CancelOperation(s, Backend::OperationKind::kSign).ok());
  EXPECT_EQ(backend_->SignInit(s, Mechanism{CKM_ECDSA_SHA256, {}}, kp.private_key).reason(),
            Reason::kMechanismInvalid);
  EXPECT_EQ(backend_->GetMechanismInfo(slot, CKM_ECDSA_SHA256).status().reason(), Reason::kMechanismInvalid);
}

// A finished sign/verify operation is kept and reused by the next *Init of the
// same key and mechanism; each reuse must behave exactly like a fresh one.
TEST_F(EmbeddedBackendTest, ReusedOperationsSignCorrectlyAndStopAfterChanges) {
  SlotId slot;
  SessionHandle s;
  InitToken(&slot, &s);
  Backend::KeyPair kp = GenerateEc(s, "reuse");
  for (int i = 0; i < 3; ++i) {  // hashed, multi-part: the digest must restart each time
    Bytes part(20, static_cast<uint8_t>(i));
    ASSERT_TRUE(backend_->SignInit(s, Mechanism{CKM_ECDSA_SHA256, {}}, kp.private_key).ok());
    ASSERT_TRUE(backend_->SignUpdate(s, part).ok());
    size_t len = 64;
    Bytes sig(len);
    ASSERT_TRUE(backend_->SignFinal(s, OutBuf{sig.data(), &len}).ok());
    ASSERT_TRUE(backend_->VerifyInit(s, Mechanism{CKM_ECDSA_SHA256, {}}, kp.public_key).ok());
    EXPECT_TRUE(backend_->Verify(s, part, sig).ok()) << "iteration " << i;
    ASSERT_TRUE(backend_->VerifyInit(s, Mechanism{CKM_ECDSA_SHA256, {}}, kp.public_key).ok());
    sig[0] ^= 1;
    EXPECT_EQ(backend_->Verify(s, part, sig).reason(), Reason::kSignatureInvalid);
  }
  // After a logout the kept operation must not sign for anyone.
  Bytes data(32, 9);
  EXPECT_EQ(Sign(s, kp.private_key, CKM_ECDSA, data).size(), 64u);
  ASSERT_TRUE(backend_->Logout(s).ok());
  EXPECT_EQ(backend_->SignInit(s, Mechanism{CKM_ECDSA, {}}, kp.private_key).reason(), Reason::kKeyHandleInvalid);
  ASSERT_TRUE(backend_->Login(s, UserType::kUser, Pin(kUserPin)).ok());
  EXPECT_EQ(Sign(s, kp.private_key, CKM_ECDSA, data).size(), 64u);
  // A key destroyed by another process is not signed with again.
  std::unique_ptr<Backend> other = Open();
  auto s2 = other->OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  ASSERT_TRUE(s2.ok());
  ASSERT_TRUE(other->Login(*s2, UserType::kUser, Pin(kUserPin)).ok());
  ASSERT_TRUE(other->DestroyObject(*s2, kp.private_key).ok());
  EXPECT_EQ(backend_->SignInit(s, Mechanism{CKM_ECDSA, {}}, kp.private_key).reason(), Reason::kKeyHandleInvalid);
}

// Token policy: a new user PIN must be changed at first login. Also: PINs are
// long byte strings of any value (here 80 bytes including NUL and 0xff).
TEST_F(EmbeddedBackendTest, PinMustBeChangedAtFirstLoginAndLongBinaryPins) {
  SlotId slot = backend_->GetSlotList(true)->back();
  Backend::TokenOptions options;
  options.user_pin_must_change = true;
  ASSERT_TRUE(backend_->InitTokenWithOptions(slot, Pin(kSoPin), "policy", options).ok());
  auto s = backend_->OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(backend_->Login(*s, UserType::kSo, Pin(kSoPin)).ok());
  ASSERT_TRUE(backend_->InitPin(*s, Pin(kUserPin)).ok());
  ASSERT_TRUE(backend_->Logout(*s).ok());
  EXPECT_TRUE(backend_->GetTokenInfo(slot)->flags & CKF_USER_PIN_TO_BE_CHANGED);
  // The login succeeds (so a client can go on to C_SetPIN), but nothing else
  // works until the PIN is changed.
  ASSERT_TRUE(backend_->Login(*s, UserType::kUser, Pin(kUserPin)).ok());
  EXPECT_EQ(backend_->GetSessionInfo(*s)->state, static_cast<uint64_t>(CKS_RW_USER_FUNCTIONS));
  EXPECT_EQ(backend_->FindObjectsInit(*s, AttributeSet{}).reason(), Reason::kPinExpired);
  EXPECT_EQ(GenerateKeyPairStatus(*s).reason(), Reason::kPinExpired);
  auto other = backend_->OpenSession(slot, CKF_SERIAL_SESSION);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(backend_->FindObjectsInit(*other, AttributeSet{}).reason(), Reason::kPinExpired);
  EXPECT_EQ(backend_->SetPin(*s, Pin(kUserPin), Pin("short")).reason(), Reason::kPinLenRange);  // policy
  std::string long_pin(80, 'x');
  long_pin[10] = '\0';
  long_pin[20] = '\xff';
  SecretBytes new_pin(long_pin, SecretAccess::Get());
  ASSERT_TRUE(backend_->SetPin(*s, Pin(kUserPin), new_pin).ok());
  EXPECT_FALSE(backend_->GetTokenInfo(slot)->flags & CKF_USER_PIN_TO_BE_CHANGED);
  GenerateEc(*s, "after-change");  // the login is a full one now
  ASSERT_TRUE(backend_->Logout(*s).ok());
  EXPECT_EQ(backend_->Login(*s, UserType::kUser, Pin(kUserPin)).reason(), Reason::kPinIncorrect);
  long_pin[79] = 'y';  // one byte off at the very end
  EXPECT_EQ(backend_->Login(*s, UserType::kUser, SecretBytes(long_pin, SecretAccess::Get())).reason(),
            Reason::kPinIncorrect);
  EXPECT_TRUE(backend_->Login(*s, UserType::kUser, new_pin).ok());
}

}  // namespace
}  // namespace certvault
