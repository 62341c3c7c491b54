// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// PKCS#11 behaviour that clients rely on (issue 11 §4), through the Backend
// interface: CKA_ALWAYS_AUTHENTICATE with C_Login(CKU_CONTEXT_SPECIFIC),
// CKA_ALLOWED_MECHANISMS on every key, and public token objects created in a
// R/W public session.
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "src/core/backend.h"
#include "src/core/testing/token_test.h"

namespace certvault {
namespace {

using testing::kUserPin;
using testing::Pin;

const uint8_t kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

class ClientBehaviourTest : public testing::TokenTest {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    s_ = RwSession();
  }
  std::string ExtraConfig() const override { return "pin_max_tries = 3\n"; }
  void LoginUser() { ASSERT_TRUE(backend_->Login(s_, UserType::kUser, Pin(kUserPin)).ok()); }
  Backend::KeyPair GenerateEc(bool always_authenticate) {
    AttributeSet pub, priv;
    pub.Set(CKA_EC_PARAMS, kP256);
    pub.SetBool(CKA_TOKEN, true);
    priv.SetBool(CKA_TOKEN, true);
    priv.SetBool(CKA_SIGN, true);
    priv.SetBool(CKA_ALWAYS_AUTHENTICATE, always_authenticate);
    auto kp = backend_->GenerateKeyPair(s_, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv);
    EXPECT_TRUE(kp.ok()) << kp.status().ToString();
    return kp.ok() ? *kp : Backend::KeyPair{};
  }
  Status SignOnce(ObjectHandle key) {
    Bytes data(32, 1), sig(64);
    size_t len = sig.size();
    return backend_->Sign(s_, data, OutBuf{sig.data(), &len});
  }

  SessionHandle s_ = 0;
};

const Mechanism kEcdsa{CKM_ECDSA, {}};

TEST_F(ClientBehaviourTest, AlwaysAuthenticateNeedsContextLoginAfterEachInit) {
  LoginUser();
  Backend::KeyPair kp = GenerateEc(true);
  // Without the context-specific login the operation fails and ends.
  ASSERT_TRUE(backend_->SignInit(s_, kEcdsa, kp.private_key).ok());
  EXPECT_EQ(SignOnce(kp.private_key).reason(), Reason::kUserNotLoggedIn);
  EXPECT_EQ(SignOnce(kp.private_key).reason(), Reason::kOperationNotInitialized);
  // Init, context login, sign: works, once.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(backend_->SignInit(s_, kEcdsa, kp.private_key).ok());
    ASSERT_TRUE(backend_->Login(s_, UserType::kContextSpecific, Pin(kUserPin)).ok());
    EXPECT_TRUE(SignOnce(kp.private_key).ok());
  }
  // The login does not carry over to the next operation (nor is it reused).
  ASSERT_TRUE(backend_->SignInit(s_, kEcdsa, kp.private_key).ok());
  EXPECT_EQ(SignOnce(kp.private_key).reason(), Reason::kUserNotLoggedIn);
  // Multi-part: the update needs it too.
  ASSERT_TRUE(backend_->SignInit(s_, Mechanism{CKM_ECDSA_SHA256, {}}, kp.private_key).ok());
  EXPECT_EQ(backend_->SignUpdate(s_, Bytes(3, 1)).reason(), Reason::kUserNotLoggedIn);
}

TEST_F(ClientBehaviourTest, ContextLoginChecksThePinAndNeedsAnOperation) {
  LoginUser();
  Backend::KeyPair kp = GenerateEc(true);
  EXPECT_EQ(backend_->Login(s_, UserType::kContextSpecific, Pin(kUserPin)).reason(),
            Reason::kOperationNotInitialized);
  ASSERT_TRUE(backend_->SignInit(s_, kEcdsa, kp.private_key).ok());
  EXPECT_EQ(backend_->Login(s_, UserType::kContextSpecific, Pin("wrong-pin-00")).reason(), Reason::kPinIncorrect);
  EXPECT_EQ(SignOnce(kp.private_key).reason(), Reason::kUserNotLoggedIn);
  // A correct PIN resets the retry counter, as a normal login does.
  ASSERT_TRUE(backend_->SignInit(s_, kEcdsa, kp.private_key).ok());
  ASSERT_TRUE(backend_->Login(s_, UserType::kContextSpecific, Pin(kUserPin)).ok());
  // One PIN entry, one operation: a second login finds nothing waiting.
  EXPECT_EQ(backend_->Login(s_, UserType::kContextSpecific, Pin(kUserPin)).reason(),
            Reason::kOperationNotInitialized);
  EXPECT_TRUE(SignOnce(kp.private_key).ok());
  auto info = backend_->GetTokenInfo(slot_);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->flags & CKF_USER_PIN_COUNT_LOW, 0u);
}

TEST_F(ClientBehaviourTest, OrdinaryKeysNeedNoContextLoginAndRefuseOne) {
  LoginUser();
  Backend::KeyPair kp = GenerateEc(false);
  ASSERT_TRUE(backend_->SignInit(s_, kEcdsa, kp.private_key).ok());
  EXPECT_TRUE(SignOnce(kp.private_key).ok());
  // A context-specific login without an operation that needs it is improper
  // use (v3.0 §5.6.8); the operation goes on.
  ASSERT_TRUE(backend_->SignInit(s_, kEcdsa, kp.private_key).ok());
  EXPECT_EQ(backend_->Login(s_, UserType::kContextSpecific, Pin(kUserPin)).reason(),
            Reason::kOperationNotInitialized);
  EXPECT_TRUE(SignOnce(kp.private_key).ok());
}

TEST_F(ClientBehaviourTest, AllowedMechanismsIsACommonKeyAttribute) {
  LoginUser();
  Backend::KeyPair kp = GenerateEc(false);
  for (ObjectHandle key : {kp.public_key, kp.private_key}) {
    std::vector<AttributeRequest> req(1);
    req[0].type = CKA_ALLOWED_MECHANISMS;
    ASSERT_TRUE(backend_->GetAttributeValue(s_, key, &req).ok());
    EXPECT_EQ(req[0].status, Reason::kNone);
    EXPECT_TRUE(req[0].value.empty());
  }
  // Not a key attribute of data objects.
  AttributeSet data;
  data.SetUlong(CKA_CLASS, CKO_DATA);
  data.SetBool(CKA_PRIVATE, false);
  auto obj = backend_->CreateObject(s_, data);
  ASSERT_TRUE(obj.ok()) << obj.status().ToString();
  std::vector<AttributeRequest> req(1);
  req[0].type = CKA_ALLOWED_MECHANISMS;
  EXPECT_EQ(backend_->GetAttributeValue(s_, *obj, &req).reason(), Reason::kAttributeTypeInvalid);
}

TEST_F(ClientBehaviourTest, PublicTokenObjectsWithoutLogin) {
  // A public key, made elsewhere, imported into a R/W public session.
  LoginUser();
  Backend::KeyPair kp = GenerateEc(false);
  std::vector<AttributeRequest> req(1);
  req[0].type = CKA_EC_POINT;
  ASSERT_TRUE(backend_->GetAttributeValue(s_, kp.public_key, &req).ok());
  ASSERT_TRUE(backend_->Logout(s_).ok());
  AttributeSet pub;
  pub.SetUlong(CKA_CLASS, CKO_PUBLIC_KEY);
  pub.SetUlong(CKA_KEY_TYPE, CKK_EC);
  pub.SetBool(CKA_TOKEN, true);
  pub.SetBool(CKA_PRIVATE, false);
  pub.SetString(CKA_LABEL, "imported");
  pub.Set(CKA_EC_PARAMS, kP256);
  pub.Set(CKA_EC_POINT, req[0].value);
  auto h = backend_->CreateObject(s_, pub);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  AttributeSet find;
  find.SetString(CKA_LABEL, "imported");
  ASSERT_TRUE(backend_->FindObjectsInit(s_, find).ok());
  auto found = backend_->FindObjects(s_, 10);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->size(), 1u);
  ASSERT_TRUE(backend_->FindObjectsFinal(s_).ok());
  // Private objects still need the user; a R/O session still refuses.
  pub.SetBool(CKA_PRIVATE, true);
  EXPECT_EQ(backend_->CreateObject(s_, pub).status().reason(), Reason::kUserNotLoggedIn);
  auto ro = backend_->OpenSession(slot_, CKF_SERIAL_SESSION);
  ASSERT_TRUE(ro.ok());
  pub.SetBool(CKA_PRIVATE, false);
  EXPECT_EQ(backend_->CreateObject(*ro, pub).status().reason(), Reason::kSessionReadOnly);
  AttributeSet secret;
  secret.SetUlong(CKA_CLASS, CKO_SECRET_KEY);
  secret.SetUlong(CKA_KEY_TYPE, CKK_AES);
  secret.SetBool(CKA_TOKEN, true);
  secret.SetBool(CKA_PRIVATE, false);
  secret.Set(CKA_VALUE, Bytes(16, 1));
  EXPECT_EQ(backend_->CreateObject(s_, secret).status().reason(), Reason::kUserNotLoggedIn);
}

}  // namespace
}  // namespace certvault
