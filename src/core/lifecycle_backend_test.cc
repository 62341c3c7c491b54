// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Key lifecycle through the Backend (docs/design/attributes.md, "Key
// lifecycle"): states and dates enforced per operation class at *Init, the
// state changed only by a transition, destroyed keys keep a record without
// key material.
#include <cstdio>
#include <cstring>

#include "src/base/status_macros.h"
#include "src/core/lifecycle.h"
#include "src/core/testing/token_test.h"

namespace certvault::testing {
namespace {

using lifecycle::Day;

constexpr uint8_t kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
constexpr uint8_t kData[] = {'h', 'e', 'l', 'l', 'o'};

std::string DateString(Day d) {
  std::chrono::year_month_day ymd(d);
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d%02u%02u", int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()));
  return buf;
}

class LifecycleTest : public TokenTest {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    s_ = UserSession();
  }
  // Ec: a P-256 token key pair; `priv_extra` is added to the private template.
  Backend::KeyPair Ec(const AttributeSet& priv_extra = {}, bool token = true) {
    AttributeSet pub, priv = priv_extra;
    pub.Set(CKA_EC_PARAMS, kP256);
    pub.SetBool(CKA_TOKEN, token);
    priv.SetBool(CKA_TOKEN, token);
    auto kp = backend_->GenerateKeyPair(s_, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv);
    EXPECT_TRUE(kp.ok()) << kp.status().ToString();
    return kp.ok() ? *kp : Backend::KeyPair{};
  }
  ObjectHandle Secret(MechanismType gen, bool token = true) {
    AttributeSet t;
    t.SetUlong(CKA_VALUE_LEN, 32);
    t.SetBool(CKA_TOKEN, token);
    auto k = backend_->GenerateKey(s_, Mechanism{gen, {}}, t);
    EXPECT_TRUE(k.ok()) << k.status().ToString();
    return k.ok() ? *k : 0;
  }
  Status SignOnce(ObjectHandle key, MechanismType mech = CKM_ECDSA) {
    CV_RETURN_IF_ERROR(backend_->SignInit(s_, Mechanism{mech, {}}, key));
    uint8_t sig[128];
    size_t len = sizeof(sig);
    return backend_->Sign(s_, kData, OutBuf{sig, &len});
  }
  Status SetState(ObjectHandle key, uint64_t state, std::string_view reason = "") {
    AttributeSet t;
    t.SetUlong(kCkaCvKeyState, state);
    if (!reason.empty()) t.SetString(kCkaCvKeyStateReason, reason);
    return backend_->SetAttributeValue(s_, key, t);
  }
  Result<SecureVector> Get(ObjectHandle key, AttributeType type) {
    std::vector<AttributeRequest> req(1);
    req[0].type = type;
    CV_RETURN_IF_ERROR(backend_->GetAttributeValue(s_, key, &req));
    return std::move(req[0].value);
  }
  uint64_t StateOf(ObjectHandle key) {
    auto v = Get(key, kCkaCvKeyState);
    uint64_t out = 0;
    if (v.ok() && v->size() == 8) std::memcpy(&out, v->data(), 8);
    return out;
  }
  SessionHandle s_ = 0;
};

TEST_F(LifecycleTest, NewKeysAreActiveAndCarryTheirStateTime) {
  Backend::KeyPair kp = Ec();
  EXPECT_EQ(StateOf(kp.private_key), kCvStateActive);
  EXPECT_EQ(StateOf(kp.public_key), kCvStateActive);
  auto t = Get(kp.private_key, kCkaCvKeyStateTime);
  ASSERT_TRUE(t.ok());
  uint64_t when = 0;
  std::memcpy(&when, t->data(), 8);
  EXPECT_LE(when, uint64_t(lifecycle::NowSeconds()));
  EXPECT_GT(when, uint64_t(lifecycle::NowSeconds() - 600));
}

TEST_F(LifecycleTest, PreActivationKeyIsUnusableUntilActivated) {
  AttributeSet pre;
  pre.SetUlong(kCkaCvKeyState, kCvStatePreActivation);
  Backend::KeyPair kp = Ec(pre);
  EXPECT_EQ(SignOnce(kp.private_key).reason(), Reason::kKeyFunctionNotPermitted);
  ASSERT_TRUE(SetState(kp.private_key, kCvStateActive, "ceremony done").ok());
  EXPECT_TRUE(SignOnce(kp.private_key).ok());
  auto reason = Get(kp.private_key, kCkaCvKeyStateReason);
  ASSERT_TRUE(reason.ok());
  EXPECT_EQ(std::string(reason->begin(), reason->end()), "ceremony done");
}

TEST_F(LifecycleTest, DeactivatedKeySignsNoMoreButVerifies) {
  Backend::KeyPair kp = Ec();
  ASSERT_TRUE(SignOnce(kp.private_key).ok());  // the operation is now kept for reuse
  ASSERT_TRUE(SetState(kp.private_key, kCvStateDeactivated).ok());
  ASSERT_TRUE(SetState(kp.public_key, kCvStateDeactivated).ok());
  EXPECT_EQ(backend_->SignInit(s_, Mechanism{CKM_ECDSA, {}}, kp.private_key).reason(),
            Reason::kKeyFunctionNotPermitted);
  EXPECT_TRUE(backend_->VerifyInit(s_, Mechanism{CKM_ECDSA, {}}, kp.public_key).ok());
  // Another application of the vault sees it as well.
  auto other = Open();
  auto s2 = other->OpenSession(slot_, CKF_SERIAL_SESSION);
  ASSERT_TRUE(s2.ok());
  ASSERT_TRUE(other->Login(*s2, UserType::kUser, Pin(kUserPin)).ok());
  EXPECT_EQ(other->SignInit(*s2, Mechanism{CKM_ECDSA, {}}, kp.private_key).reason(), Reason::kKeyFunctionNotPermitted);
  EXPECT_TRUE(other->VerifyInit(*s2, Mechanism{CKM_ECDSA, {}}, kp.public_key).ok());
}

TEST_F(LifecycleTest, CompromisedKeyDoesNothing) {
  Backend::KeyPair kp = Ec();
  ASSERT_TRUE(SetState(kp.public_key, kCvStateCompromised, "HSM backup stolen").ok());
  EXPECT_EQ(backend_->VerifyInit(s_, Mechanism{CKM_ECDSA, {}}, kp.public_key).reason(),
            Reason::kKeyFunctionNotPermitted);
}

TEST_F(LifecycleTest, SymmetricKeysPerOperationClass) {
  ObjectHandle hmac = Secret(CKM_GENERIC_SECRET_KEY_GEN);
  ASSERT_TRUE(SetState(hmac, kCvStateSuspended).ok());
  EXPECT_EQ(backend_->SignInit(s_, Mechanism{CKM_SHA256_HMAC, {}}, hmac).reason(), Reason::kKeyFunctionNotPermitted);
  EXPECT_TRUE(backend_->VerifyInit(s_, Mechanism{CKM_SHA256_HMAC, {}}, hmac).ok());
  ObjectHandle aes = Secret(CKM_AES_KEY_GEN);
  ASSERT_TRUE(SetState(aes, kCvStateDeactivated).ok());
  EXPECT_EQ(backend_->EncryptInit(s_, Mechanism{CKM_AES_ECB, {}}, aes).reason(), Reason::kKeyFunctionNotPermitted);
  EXPECT_TRUE(backend_->DecryptInit(s_, Mechanism{CKM_AES_ECB, {}}, aes).ok());
}

TEST_F(LifecycleTest, DeactivatedKeyUnwrapsButWrapsNoMore) {
  AttributeSet kek_tmpl;
  kek_tmpl.SetUlong(CKA_VALUE_LEN, 32);
  kek_tmpl.SetBool(CKA_TOKEN, true);
  kek_tmpl.SetBool(CKA_WRAP, true);
  kek_tmpl.SetBool(CKA_UNWRAP, true);
  auto kek = backend_->GenerateKey(s_, Mechanism{CKM_AES_KEY_GEN, {}}, kek_tmpl);
  ASSERT_TRUE(kek.ok()) << kek.status().ToString();
  AttributeSet target_tmpl;
  target_tmpl.SetUlong(CKA_VALUE_LEN, 16);
  target_tmpl.SetBool(CKA_SENSITIVE, false);
  target_tmpl.SetBool(CKA_EXTRACTABLE, true);
  auto target = backend_->GenerateKey(s_, Mechanism{CKM_AES_KEY_GEN, {}}, target_tmpl);
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  const Mechanism wrap{CKM_AES_KEY_WRAP_PAD, {}};
  uint8_t wrapped[64];
  size_t len = sizeof(wrapped);
  ASSERT_TRUE(backend_->WrapKey(s_, wrap, *kek, *target, OutBuf{wrapped, &len}).ok());
  ASSERT_TRUE(SetState(*kek, kCvStateDeactivated).ok());
  size_t len2 = sizeof(wrapped);
  EXPECT_EQ(backend_->WrapKey(s_, wrap, *kek, *target, OutBuf{wrapped, &len2}).reason(),
            Reason::kKeyFunctionNotPermitted);
  AttributeSet unwrap_tmpl;
  unwrap_tmpl.SetUlong(CKA_CLASS, CKO_SECRET_KEY);
  unwrap_tmpl.SetUlong(CKA_KEY_TYPE, CKK_AES);
  EXPECT_TRUE(backend_->UnwrapKey(s_, wrap, *kek, std::span<const uint8_t>(wrapped, len), unwrap_tmpl).ok());
  ASSERT_TRUE(SetState(*kek, kCvStateCompromised).ok());
  EXPECT_EQ(backend_->UnwrapKey(s_, wrap, *kek, std::span<const uint8_t>(wrapped, len), unwrap_tmpl).status().reason(),
            Reason::kKeyFunctionNotPermitted);
}

TEST_F(LifecycleTest, SessionKeyTransitionAppliesAtOnce) {
  Backend::KeyPair kp = Ec({}, /*token=*/false);
  ASSERT_TRUE(SignOnce(kp.private_key).ok());  // kept for reuse
  ASSERT_TRUE(SetState(kp.private_key, kCvStateCompromised).ok());
  EXPECT_EQ(SignOnce(kp.private_key).reason(), Reason::kKeyFunctionNotPermitted);
}

// The same holds for any attribute change of a session key: an operation kept
// for reuse must not outlive CKA_SIGN=FALSE (before the fix it signed once more
// within the change counter's staleness bound).
TEST_F(LifecycleTest, SessionKeyCapabilityChangeAppliesAtOnce) {
  Backend::KeyPair kp = Ec({}, /*token=*/false);
  ASSERT_TRUE(SignOnce(kp.private_key).ok());  // kept for reuse
  AttributeSet no_sign;
  no_sign.SetBool(CKA_SIGN, false);
  ASSERT_TRUE(backend_->SetAttributeValue(s_, kp.private_key, no_sign).ok());
  EXPECT_EQ(SignOnce(kp.private_key).reason(), Reason::kKeyFunctionNotPermitted);
}

TEST_F(LifecycleTest, DestroyedSessionKeySignsNoMore) {
  Backend::KeyPair kp = Ec({}, /*token=*/false);
  ASSERT_TRUE(SignOnce(kp.private_key).ok());  // kept for reuse
  ASSERT_TRUE(backend_->DestroyObject(s_, kp.private_key).ok());
  EXPECT_EQ(SignOnce(kp.private_key).reason(), Reason::kKeyHandleInvalid);
}

TEST_F(LifecycleTest, NoWayBackAndNoBypass) {
  Backend::KeyPair kp = Ec();
  ASSERT_TRUE(SetState(kp.private_key, kCvStateDeactivated).ok());
  EXPECT_EQ(SetState(kp.private_key, kCvStateActive).reason(), Reason::kAttributeValueInvalid);
  EXPECT_EQ(SetState(kp.private_key, kCvStateDeactivated).reason(), Reason::kAttributeValueInvalid);
  AttributeSet mixed;
  mixed.SetUlong(kCkaCvKeyState, kCvStateCompromised);
  mixed.SetString(CKA_LABEL, "x");
  EXPECT_EQ(backend_->SetAttributeValue(s_, kp.private_key, mixed).reason(), Reason::kTemplateInconsistent);
  AttributeSet time;
  time.SetUlong(kCkaCvKeyStateTime, 0);
  EXPECT_EQ(backend_->SetAttributeValue(s_, kp.private_key, time).reason(), Reason::kAttributeReadOnly);
  AttributeSet copy_state;
  copy_state.SetUlong(kCkaCvKeyState, kCvStateActive);
  EXPECT_FALSE(backend_->CopyObject(s_, kp.private_key, copy_state).ok());
  // A copy keeps the state.
  auto copy = backend_->CopyObject(s_, kp.private_key, {});
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(StateOf(*copy), kCvStateDeactivated);
  // A new key cannot start in a later state.
  AttributeSet born_compromised;
  born_compromised.SetUlong(kCkaCvKeyState, kCvStateCompromised);
  AttributeSet pub, priv = born_compromised;
  pub.Set(CKA_EC_PARAMS, kP256);
  EXPECT_EQ(backend_->GenerateKeyPair(s_, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv).status().reason(),
            Reason::kAttributeValueInvalid);
}

TEST_F(LifecycleTest, TransitionsIgnoreModifiableButNeedTheUser) {
  AttributeSet fixed;
  fixed.SetBool(CKA_MODIFIABLE, false);
  Backend::KeyPair kp = Ec(fixed);
  AttributeSet label;
  label.SetString(CKA_LABEL, "x");
  EXPECT_EQ(backend_->SetAttributeValue(s_, kp.private_key, label).reason(), Reason::kActionProhibited);
  EXPECT_TRUE(SetState(kp.private_key, kCvStateCompromised).ok());
  ASSERT_TRUE(backend_->Logout(s_).ok());
  EXPECT_EQ(SetState(kp.public_key, kCvStateCompromised).reason(), Reason::kUserNotLoggedIn);
}

TEST_F(LifecycleTest, DestroyedKeyKeepsARecordWithoutMaterial) {
  AttributeSet labelled;
  labelled.SetString(CKA_LABEL, "old-signing-key");
  Backend::KeyPair kp = Ec(labelled);
  auto before = backend_->GetObjectSize(s_, kp.private_key);
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(SetState(kp.private_key, kCvStateDestroyed, "end of life").ok());
  auto after = backend_->GetObjectSize(s_, kp.private_key);
  ASSERT_TRUE(after.ok());
  EXPECT_LT(*after + 100, *before) << "the sealed PKCS#8 is gone from the record";
  EXPECT_EQ(StateOf(kp.private_key), kCvStateDestroyed);
  auto label = Get(kp.private_key, CKA_LABEL);
  ASSERT_TRUE(label.ok());
  EXPECT_EQ(std::string(label->begin(), label->end()), "old-signing-key");
  EXPECT_EQ(SignOnce(kp.private_key).reason(), Reason::kKeyFunctionNotPermitted);
  EXPECT_EQ(SetState(kp.private_key, kCvStateCompromised).reason(), Reason::kAttributeValueInvalid);
  // After a fresh login (the record is re-verified from disk) it is the same.
  auto other = Open();
  auto s2 = other->OpenSession(slot_, CKF_SERIAL_SESSION);
  ASSERT_TRUE(s2.ok());
  ASSERT_TRUE(other->Login(*s2, UserType::kUser, Pin(kUserPin)).ok());
  EXPECT_EQ(other->SignInit(*s2, Mechanism{CKM_ECDSA, {}}, kp.private_key).reason(), Reason::kKeyFunctionNotPermitted);
}

TEST_F(LifecycleTest, DatesInThePastAndFuture) {
  const Day today = lifecycle::Today();
  AttributeSet future;
  future.SetString(CKA_START_DATE, DateString(today + std::chrono::days(2)));
  Backend::KeyPair not_yet = Ec(future);
  EXPECT_EQ(SignOnce(not_yet.private_key).reason(), Reason::kKeyFunctionNotPermitted);

  AttributeSet past;
  past.SetString(CKA_END_DATE, DateString(today - std::chrono::days(2)));
  Backend::KeyPair expired = Ec(past);
  EXPECT_EQ(SignOnce(expired.private_key).reason(), Reason::kKeyFunctionNotPermitted);
  AttributeSet extend;
  extend.SetString(CKA_END_DATE, DateString(today + std::chrono::days(365)));
  EXPECT_EQ(backend_->SetAttributeValue(s_, expired.private_key, extend).reason(), Reason::kAttributeReadOnly);
  // Nor through a copy: the copy is the same key material with a new period.
  auto revived = backend_->CopyObject(s_, expired.private_key, extend);
  EXPECT_EQ(revived.status().reason(), Reason::kAttributeReadOnly) << revived.status().ToString();
  auto plain_copy = backend_->CopyObject(s_, expired.private_key, {});
  ASSERT_TRUE(plain_copy.ok()) << plain_copy.status().ToString();
  EXPECT_EQ(SignOnce(*plain_copy).reason(), Reason::kKeyFunctionNotPermitted);

  // An active key whose period is ended now: the kept operation is not reused.
  Backend::KeyPair kp = Ec();
  ASSERT_TRUE(SignOnce(kp.private_key).ok());
  AttributeSet end;
  end.SetString(CKA_END_DATE, DateString(today - std::chrono::days(1)));
  ASSERT_TRUE(backend_->SetAttributeValue(s_, kp.private_key, end).ok());
  EXPECT_EQ(SignOnce(kp.private_key).reason(), Reason::kKeyFunctionNotPermitted);
  // Today is still inside a period that ends today.
  Backend::KeyPair last_day = Ec();
  AttributeSet end_today;
  end_today.SetString(CKA_END_DATE, DateString(today));
  ASSERT_TRUE(backend_->SetAttributeValue(s_, last_day.private_key, end_today).ok());
  EXPECT_TRUE(SignOnce(last_day.private_key).ok());
  // A far end date: the reuse deadline must not overflow (UBSan).
  AttributeSet far;
  far.SetString(CKA_END_DATE, "99991231");
  Backend::KeyPair lasting = Ec(far);
  EXPECT_TRUE(SignOnce(lasting.private_key).ok());
  EXPECT_TRUE(SignOnce(lasting.private_key).ok());
}

}  // namespace
}  // namespace certvault::testing
