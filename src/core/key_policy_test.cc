// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The vault under a policy.toml ([vault] policy = PATH; issue 17 "The policy
// as data"): [pin] min_length on every PIN set, [algorithms] on every key
// stored, and a configuration contradicting the policy refuses to open.
#include "src/core/key_policy.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <optional>

#include "src/core/backend.h"
#include "src/core/config.h"
#include "src/core/testing/token_test.h"
#include "src/storage/store.h"

namespace certvault::core {
namespace {

using certvault::testing::kSoPin;
using certvault::testing::kUserPin;
using certvault::testing::Pin;

const uint8_t kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
const uint8_t kP384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
const uint8_t kEd25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};

constexpr char kPolicy[] =
    "[policy]\nname = \"test policy\"\n"
    "[algorithms]\nallowed_key_types = [\"ec-p256\", \"rsa-2048\"]\nmin_rsa_bits = 2048\n"
    "[pin]\nmin_length = 10\n"
    "[crypto_periods]\nmax_key_days = 30\n";

class VaultPolicyTest : public certvault::testing::TokenTest {
 protected:
  // The policy file beside the config; `policy = policy.toml` is relative to it.
  std::string ExtraConfig() const override {
    std::ofstream(dir_ + "/policy.toml") << kPolicy;
    return "policy = policy.toml\n";
  }
  Status GenerateRsa(uint64_t bits) {
    AttributeSet pub, priv;
    pub.SetUlong(CKA_MODULUS_BITS, bits);
    priv.SetBool(CKA_SIGN, true);
    return backend_->GenerateKeyPair(UserSession(), Mechanism{CKM_RSA_PKCS_KEY_PAIR_GEN, {}}, pub, priv).status();
  }
  Status GenerateEc(MechanismType mech, std::span<const uint8_t> params) {
    AttributeSet pub, priv;
    pub.Set(CKA_EC_PARAMS, params);
    priv.SetBool(CKA_SIGN, true);
    return backend_->GenerateKeyPair(UserSession(), Mechanism{mech, {}}, pub, priv).status();
  }
  // OpenWith: a backend on this vault with `extra` in [vault], or its error.
  Status OpenWith(const std::string& extra, bool allow_weak_pin = false) {
    std::string conf = dir_ + "/other.conf";
    std::ofstream(conf) << "[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\n" << extra;
    BackendOptions options;
    options.vault_dir = dir_ + "/vault";
    options.config_path = conf;
    options.allow_weak_pin = allow_weak_pin;
    return OpenEmbeddedBackend(options).status();
  }
};

TEST_F(VaultPolicyTest, PinShorterThanThePolicyIsRefused) {
  auto so = backend_->OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  ASSERT_TRUE(so.ok());
  ASSERT_TRUE(backend_->Login(*so, UserType::kSo, Pin(kSoPin)).ok());
  // 9 characters: enough for the default 6/8, not for the policy's 10.
  Status st = backend_->InitPin(*so, Pin("123456789"));
  EXPECT_EQ(st.reason(), Reason::kPinLenRange) << st.ToString();
  st = backend_->SetPin(*so, Pin(kSoPin), Pin("abcdefghi"));
  EXPECT_EQ(st.reason(), Reason::kPinLenRange) << st.ToString();
  EXPECT_TRUE(backend_->InitPin(*so, Pin("1234567890")).ok());
  ASSERT_TRUE(backend_->CloseSession(*so).ok());
  st = backend_->InitToken(slot_, Pin("so-pin-12"), "test");
  EXPECT_EQ(st.reason(), Reason::kPinLenRange) << st.ToString();
}

TEST_F(VaultPolicyTest, TokenInfoReportsThePolicyMinimum) {
  auto info = backend_->GetTokenInfo(slot_);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->min_pin_len, 10u);
}

TEST_F(VaultPolicyTest, KeyGenerationOutsideThePolicyIsRefused) {
  Status st = GenerateRsa(1024);
  EXPECT_EQ(st.reason(), Reason::kKeySizeRange) << st.ToString();
  st = GenerateEc(CKM_EC_KEY_PAIR_GEN, kP384);
  EXPECT_EQ(st.reason(), Reason::kKeySizeRange) << st.ToString();
  st = GenerateEc(CKM_EC_EDWARDS_KEY_PAIR_GEN, kEd25519);
  EXPECT_EQ(st.reason(), Reason::kTemplateInconsistent) << st.ToString();
  EXPECT_TRUE(GenerateEc(CKM_EC_KEY_PAIR_GEN, kP256).ok());
  EXPECT_TRUE(GenerateRsa(2048).ok());
}

// A refused token key is a "policy_violation" in the vault's event log,
// naming the rule and what was refused (issue 17); other refusals keep their
// operation's action.
TEST_F(VaultPolicyTest, RefusalIsAPolicyViolationEvent) {
  SessionHandle s = UserSession();
  AttributeSet pub, priv;
  pub.SetUlong(CKA_MODULUS_BITS, 1024);
  pub.SetBool(CKA_TOKEN, true);
  priv.SetBool(CKA_TOKEN, true);
  priv.SetString(CKA_LABEL, "weak");
  EXPECT_FALSE(backend_->GenerateKeyPair(s, Mechanism{CKM_RSA_PKCS_KEY_PAIR_GEN, {}}, pub, priv).ok());
  AttributeSet long_lived;
  long_lived.SetUlong(CKA_CLASS, CKO_SECRET_KEY);
  long_lived.SetUlong(CKA_KEY_TYPE, CKK_AES);
  long_lived.SetBool(CKA_TOKEN, true);
  long_lived.SetString(CKA_LABEL, "forever");
  long_lived.SetString(CKA_END_DATE, "29991231");
  long_lived.Set(CKA_VALUE, Bytes(32, 7));
  EXPECT_FALSE(backend_->CreateObject(s, long_lived).ok());
  auto store = storage::OpenStore(dir_ + "/vault/vault.db", storage::StoreOptions{});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::vector<storage::EventRow> events;
  ASSERT_TRUE((*store)->ForEachEvent(slot_, [&](const storage::EventRow& e) {
                        events.push_back(e);
                        return OkStatus();
                      }).ok());
  ASSERT_GE(events.size(), 2u);
  const storage::EventRow& gen = events[events.size() - 2];
  EXPECT_EQ(gen.action, "policy_violation");
  EXPECT_EQ(gen.target_label, "weak");
  EXPECT_NE(gen.detail.find("generate_key_pair refused by policy.toml [algorithms] min_rsa_bits"), std::string::npos)
      << gen.detail;
  EXPECT_NE(gen.result, "ok");
  const storage::EventRow& import = events.back();
  EXPECT_EQ(import.action, "policy_violation");
  EXPECT_NE(import.detail.find("import_key refused by policy.toml [crypto_periods] max_key_days"), std::string::npos)
      << import.detail;
}

// A refused session key (CKA_TOKEN false) is a policy_violation too, marked
// as a session object; a session key the policy allows leaves no event
// (session objects are not logged), nor does a refusal that is not the
// policy's.
TEST_F(VaultPolicyTest, RefusedSessionKeyIsAPolicyViolationEvent) {
  SessionHandle s = UserSession();
  auto count = [&]() -> std::vector<storage::EventRow> {
    std::vector<storage::EventRow> events;
    auto store = storage::OpenStore(dir_ + "/vault/vault.db", storage::StoreOptions{});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return events;
    EXPECT_TRUE((*store)
                    ->ForEachEvent(slot_,
                                   [&](const storage::EventRow& e) {
                                     events.push_back(e);
                                     return OkStatus();
                                   })
                    .ok());
    return events;
  };
  const size_t before = count().size();
  AttributeSet pub, priv;
  pub.SetUlong(CKA_MODULUS_BITS, 1024);
  priv.SetString(CKA_LABEL, "weak-session");
  EXPECT_FALSE(backend_->GenerateKeyPair(s, Mechanism{CKM_RSA_PKCS_KEY_PAIR_GEN, {}}, pub, priv).ok());
  std::vector<storage::EventRow> events = count();
  ASSERT_EQ(events.size(), before + 1);
  const storage::EventRow& gen = events.back();
  EXPECT_EQ(gen.action, "policy_violation");
  EXPECT_EQ(gen.target_label, "weak-session");
  EXPECT_NE(gen.detail.find("generate_key_pair refused by policy.toml [algorithms] min_rsa_bits"), std::string::npos)
      << gen.detail;
  EXPECT_NE(gen.detail.find("session object"), std::string::npos) << gen.detail;
  EXPECT_NE(gen.result, "ok");
  AttributeSet aes;
  aes.SetUlong(CKA_VALUE_LEN, 32);
  EXPECT_TRUE(backend_->GenerateKey(s, Mechanism{CKM_AES_KEY_GEN, {}}, aes).ok());
  AttributeSet bad;
  bad.SetUlong(CKA_CLASS, CKO_SECRET_KEY);
  bad.SetUlong(CKA_KEY_TYPE, CKK_AES);
  bad.Set(CKA_VALUE, Bytes(5, 7));  // not an AES key size: refused, but not by the policy
  EXPECT_FALSE(backend_->CreateObject(s, bad).ok());
  EXPECT_EQ(count().size(), before + 1) << "only the policy's refusal of a session object is logged";
}

// ImportRsaPublic: C_CreateObject of an RSA public key with a `bytes`-byte
// modulus (odd, top bit set; a public key needs no factorization).
Status ImportRsaPublic(Backend& backend, SessionHandle s, size_t bytes) {
  std::vector<uint8_t> n(bytes, 0xc5);
  const uint8_t e[] = {0x01, 0x00, 0x01};
  AttributeSet tmpl;
  tmpl.SetUlong(CKA_CLASS, CKO_PUBLIC_KEY);
  tmpl.SetUlong(CKA_KEY_TYPE, CKK_RSA);
  tmpl.Set(CKA_MODULUS, n);
  tmpl.Set(CKA_PUBLIC_EXPONENT, e);
  return backend.CreateObject(s, tmpl).status();
}

TEST_F(VaultPolicyTest, ImportOutsideThePolicyIsRefused) {
  SessionHandle s = UserSession();
  Status st = ImportRsaPublic(*backend_, s, 128);
  EXPECT_EQ(st.reason(), Reason::kKeySizeRange) << st.ToString();
  EXPECT_TRUE(ImportRsaPublic(*backend_, s, 256).ok());
}

TEST_F(VaultPolicyTest, SecretKeysAreNotGoverned) {
  AttributeSet tmpl;
  tmpl.SetUlong(CKA_VALUE_LEN, 32);
  EXPECT_TRUE(backend_->GenerateKey(UserSession(), Mechanism{CKM_AES_KEY_GEN, {}}, tmpl).ok());
}

TEST_F(VaultPolicyTest, ConfigurationContradictingThePolicyRefusesToOpen) {
  EXPECT_TRUE(OpenWith("policy = policy.toml\n").ok());
  Status st = OpenWith("policy = policy.toml\nallow_weak_pin = true\n");
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("[pin] min_length"), std::string::npos) << st.ToString();
  st = OpenWith("policy = policy.toml\n", /*allow_weak_pin=*/true);  // --allow-weak-pin
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  st = OpenWith("policy = policy.toml\npin_max_tries = 11\n");
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
}

TEST_F(VaultPolicyTest, MissingOrMalformedPolicyRefusesToOpen) {
  EXPECT_EQ(OpenWith("policy = nowhere.toml\n").code(), StatusCode::kFailedPrecondition);
  std::ofstream(dir_ + "/bad.toml") << "[algorithms]\nallowed_key_types = [\"rsa-1024\"]\n";
  Status st = OpenWith("policy = bad.toml\n");
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("rsa-1024"), std::string::npos) << st.ToString();
  std::ofstream(dir_ + "/junk.toml") << "[pin\n";
  EXPECT_EQ(OpenWith("policy = junk.toml\n").code(), StatusCode::kFailedPrecondition);
}

TEST(KeyPolicyTest, NamesKeysAsThePolicyDoes) {
  AttributeSet rsa;
  rsa.SetUlong(CKA_CLASS, CKO_PRIVATE_KEY);
  rsa.SetUlong(CKA_KEY_TYPE, CKK_RSA);
  std::vector<uint8_t> modulus(256, 0xff);
  modulus[0] = 0x00;  // a leading zero byte and 255 bytes from 0xff: 2040 bits
  rsa.Set(CKA_MODULUS, modulus);
  EXPECT_EQ(PolicyKeyType(rsa), "rsa-2040");
  AttributeSet ed;
  ed.SetUlong(CKA_CLASS, CKO_PUBLIC_KEY);
  ed.SetUlong(CKA_KEY_TYPE, CKK_EC);  // Edwards OID under CKK_EC: not nameable
  ed.Set(CKA_EC_PARAMS, kEd25519);
  EXPECT_EQ(PolicyKeyType(ed), "");
  auto policy = kmpolicy::ParsePolicy(kPolicy);
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(CheckKeyAllowed(*policy, ed).reason(), Reason::kTemplateInconsistent);
  EXPECT_EQ(CheckKeyAllowed(*policy, rsa).reason(), Reason::kKeySizeRange);
  EXPECT_TRUE(CheckKeyAllowed(nullptr, rsa).ok());
}

// [crypto_periods] max_key_days: a key whose template asks for a longer
// period is refused before it is made.
TEST_F(VaultPolicyTest, KeyPeriodLongerThanThePolicyIsRefused) {
  AttributeSet tmpl;
  tmpl.SetUlong(CKA_VALUE_LEN, 32);
  tmpl.SetString(CKA_END_DATE, "29991231");
  Status st = backend_->GenerateKey(UserSession(), Mechanism{CKM_AES_KEY_GEN, {}}, tmpl).status();
  EXPECT_EQ(st.reason(), Reason::kTemplateInconsistent) << st.ToString();
  EXPECT_NE(st.message().find("max_key_days = 30"), std::string::npos) << st.ToString();
  AttributeSet pub, priv;
  pub.Set(CKA_EC_PARAMS, kP256);
  priv.SetBool(CKA_SIGN, true);
  priv.SetString(CKA_END_DATE, "29991231");
  st = backend_->GenerateKeyPair(UserSession(), Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv).status();
  EXPECT_EQ(st.reason(), Reason::kTemplateInconsistent) << st.ToString();
}

lifecycle::Day Ymd(int y, unsigned m, unsigned d) {
  return lifecycle::Day(std::chrono::year_month_day{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)});
}

TEST(ApplyKeyPeriod, SetsTheEndDateOrRefusesALaterOne) {
  kmpolicy::Policy policy;
  policy.max_key_days = 30;
  lifecycle::Day today = Ymd(2026, 12, 7);
  AttributeSet key;
  key.SetUlong(CKA_CLASS, CKO_PRIVATE_KEY);
  ASSERT_TRUE(ApplyKeyPeriod(&policy, &key, today).ok());
  std::optional<std::span<const uint8_t>> end = key.GetBytes(CKA_END_DATE);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(std::string(end->begin(), end->end()), "20270106");
  std::optional<std::span<const uint8_t>> start = key.GetBytes(CKA_START_DATE);
  ASSERT_TRUE(start.has_value());
  EXPECT_EQ(std::string(start->begin(), start->end()), "20261207") << "the period's anchor is recorded";
  AttributeSet later;  // from its own start date
  later.SetUlong(CKA_CLASS, CKO_SECRET_KEY);
  later.SetString(CKA_START_DATE, "20270201");
  later.SetString(CKA_END_DATE, "20270303");
  EXPECT_TRUE(ApplyKeyPeriod(&policy, &later, today).ok());
  later.SetString(CKA_END_DATE, "20270304");
  EXPECT_EQ(ApplyKeyPeriod(&policy, &later, today).reason(), Reason::kTemplateInconsistent);
  later.SetString(CKA_END_DATE, "2027030");
  EXPECT_EQ(ApplyKeyPeriod(&policy, &later, today).reason(), Reason::kAttributeValueInvalid);
  AttributeSet pub;  // verification may go on after the period
  pub.SetUlong(CKA_CLASS, CKO_PUBLIC_KEY);
  ASSERT_TRUE(ApplyKeyPeriod(&policy, &pub, today).ok());
  EXPECT_FALSE(pub.Has(CKA_END_DATE));
  policy.max_key_days = 0;  // no limit
  AttributeSet free_key;
  free_key.SetUlong(CKA_CLASS, CKO_PRIVATE_KEY);
  ASSERT_TRUE(ApplyKeyPeriod(&policy, &free_key, today).ok());
  EXPECT_FALSE(free_key.Has(CKA_END_DATE));
}

std::string Ck(lifecycle::Day d) {
  std::chrono::year_month_day ymd(d);
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d%02u%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

AttributeSet Dates(std::optional<std::string> start, std::optional<std::string> end) {
  AttributeSet t;
  if (start) t.SetString(CKA_START_DATE, *start);
  if (end) t.SetString(CKA_END_DATE, *end);
  return t;
}

// The period is anchored at the key's stored start: moving the start later
// never buys a later end, and a key without a start date may only end sooner.
TEST(CheckKeyPeriodChange, TheEndStaysWithinThePeriodFromTheStoredStart) {
  kmpolicy::Policy policy;
  policy.max_key_days = 30;
  lifecycle::Day today = Ymd(2026, 12, 7);
  AttributeSet key = Dates("20261201", "20261231");
  key.SetUlong(CKA_CLASS, CKO_SECRET_KEY);
  EXPECT_TRUE(CheckKeyPeriodChange(&policy, key, Dates(std::nullopt, "20261220"), today).ok());
  EXPECT_EQ(CheckKeyPeriodChange(&policy, key, Dates(std::nullopt, "20270101"), today).reason(),
            Reason::kTemplateInconsistent);
  EXPECT_EQ(CheckKeyPeriodChange(&policy, key, Dates("20261215", "20270114"), today).reason(),
            Reason::kTemplateInconsistent);  // start moved later: the end may not follow it
  EXPECT_EQ(CheckKeyPeriodChange(&policy, key, Dates("20261125", std::nullopt), today).reason(),
            Reason::kTemplateInconsistent);  // an earlier start makes the kept end too far
  EXPECT_TRUE(CheckKeyPeriodChange(&policy, key, Dates("20261125", "20261225"), today).ok());
  EXPECT_EQ(CheckKeyPeriodChange(&policy, key, Dates(std::nullopt, ""), today).reason(),
            Reason::kTemplateInconsistent);  // no end date at all
  EXPECT_EQ(CheckKeyPeriodChange(&policy, key, Dates(std::nullopt, "2027"), today).reason(),
            Reason::kAttributeValueInvalid);
  AttributeSet no_start = Dates(std::nullopt, "20261231");
  no_start.SetUlong(CKA_CLASS, CKO_PRIVATE_KEY);
  EXPECT_EQ(CheckKeyPeriodChange(&policy, no_start, Dates(std::nullopt, "20270101"), today).reason(),
            Reason::kTemplateInconsistent);
  EXPECT_EQ(CheckKeyPeriodChange(&policy, no_start, Dates("20261220", "20270101"), today).reason(),
            Reason::kTemplateInconsistent);
  AttributeSet old_key;  // stored before the policy: no dates at all
  old_key.SetUlong(CKA_CLASS, CKO_PRIVATE_KEY);
  EXPECT_TRUE(CheckKeyPeriodChange(&policy, old_key, Dates(std::nullopt, "20270106"), today).ok());
  EXPECT_FALSE(CheckKeyPeriodChange(&policy, old_key, Dates(std::nullopt, "20270107"), today).ok());
  AttributeSet pub = Dates(std::nullopt, "20261231");
  pub.SetUlong(CKA_CLASS, CKO_PUBLIC_KEY);
  EXPECT_TRUE(CheckKeyPeriodChange(&policy, pub, Dates(std::nullopt, "20301231"), today).ok());
  EXPECT_TRUE(CheckKeyPeriodChange(nullptr, key, Dates(std::nullopt, "20301231"), today).ok());
}

TEST(CapToBaseKeyPeriod, ADerivedKeyEndsNoLaterThanItsBase) {
  AttributeSet base = Dates(std::nullopt, "20261231");
  AttributeSet none;
  AttributeSet derived;
  ASSERT_TRUE(CapToBaseKeyPeriod(base, none, &derived).ok());
  EXPECT_EQ(derived.GetBytes(CKA_END_DATE).value().size(), 8u);
  AttributeSet chosen = Dates(std::nullopt, "20270106");  // the vault's policy end, later than the base's
  ASSERT_TRUE(CapToBaseKeyPeriod(base, none, &chosen).ok());
  auto end = chosen.GetBytes(CKA_END_DATE).value();
  EXPECT_EQ(std::string(end.begin(), end.end()), "20261231");
  AttributeSet asked = Dates(std::nullopt, "20270101");
  EXPECT_EQ(CapToBaseKeyPeriod(base, asked, &asked).reason(), Reason::kTemplateInconsistent);
  AttributeSet sooner = Dates(std::nullopt, "20261201");
  EXPECT_TRUE(CapToBaseKeyPeriod(base, sooner, &sooner).ok());
  AttributeSet free_base;
  AttributeSet far = Dates(std::nullopt, "29991231");
  EXPECT_TRUE(CapToBaseKeyPeriod(free_base, far, &far).ok());
}

// Through the backend: C_SetAttributeValue and C_CopyObject cannot stretch
// a key past max_key_days, and C_DeriveKey gives the new key the policy's
// period, capped at its base key's end.
TEST_F(VaultPolicyTest, DateChangesStayWithinTheCryptoPeriod) {
  SessionHandle s = UserSession();
  const lifecycle::Day today = lifecycle::Today();
  AttributeSet tmpl;
  tmpl.SetUlong(CKA_VALUE_LEN, 32);
  tmpl.SetBool(CKA_TOKEN, true);
  auto key = backend_->GenerateKey(s, Mechanism{CKM_AES_KEY_GEN, {}}, tmpl);  // no start date: today is recorded
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  Status st = backend_->SetAttributeValue(s, *key, Dates(std::nullopt, Ck(today + std::chrono::days(31))));
  EXPECT_EQ(st.reason(), Reason::kTemplateInconsistent) << st.ToString();
  EXPECT_NE(st.message().find("max_key_days = 30"), std::string::npos) << st.ToString();
  st = backend_->SetAttributeValue(
      s, *key, Dates(Ck(today + std::chrono::days(5)), Ck(today + std::chrono::days(35))));
  EXPECT_EQ(st.reason(), Reason::kTemplateInconsistent) << st.ToString();
  EXPECT_EQ(backend_->SetAttributeValue(s, *key, Dates(std::nullopt, "")).reason(), Reason::kTemplateInconsistent);
  auto copy = backend_->CopyObject(s, *key, Dates(std::nullopt, "29991231"));
  EXPECT_EQ(copy.status().reason(), Reason::kTemplateInconsistent) << copy.status().ToString();
  EXPECT_TRUE(backend_->SetAttributeValue(s, *key, Dates(std::nullopt, Ck(today + std::chrono::days(10)))).ok());
  st = backend_->SetAttributeValue(s, *key, Dates(std::nullopt, Ck(today + std::chrono::days(30))));
  EXPECT_TRUE(st.ok()) << st.ToString();  // shortened, then back within the period
}

TEST_F(VaultPolicyTest, DerivedKeysGetThePolicyPeriodCappedAtTheBase) {
  SessionHandle s = UserSession();
  const lifecycle::Day today = lifecycle::Today();
  AttributeSet pub, priv;
  pub.Set(CKA_EC_PARAMS, kP256);
  priv.SetBool(CKA_DERIVE, true);
  priv.SetString(CKA_END_DATE, Ck(today + std::chrono::days(7)));
  auto kp = backend_->GenerateKeyPair(s, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv);
  ASSERT_TRUE(kp.ok()) << kp.status().ToString();
  std::vector<AttributeRequest> point(1);
  point[0].type = CKA_EC_POINT;
  ASSERT_TRUE(backend_->GetAttributeValue(s, kp->public_key, &point).ok());
  Ecdh1DeriveParams ecdh;
  ecdh.kdf = CKD_NULL;
  ecdh.public_data = Bytes(point[0].value.begin(), point[0].value.end());
  AttributeSet tmpl;
  tmpl.SetUlong(CKA_KEY_TYPE, CKK_GENERIC_SECRET);
  tmpl.SetUlong(CKA_VALUE_LEN, 32);
  auto derived = backend_->DeriveKey(s, Mechanism{CKM_ECDH1_DERIVE, ecdh}, kp->private_key, tmpl);
  ASSERT_TRUE(derived.ok()) << derived.status().ToString();
  std::vector<AttributeRequest> end(1);
  end[0].type = CKA_END_DATE;
  ASSERT_TRUE(backend_->GetAttributeValue(s, *derived, &end).ok());
  EXPECT_EQ(std::string(end[0].value.begin(), end[0].value.end()), Ck(today + std::chrono::days(7)));
  tmpl.SetString(CKA_END_DATE, Ck(today + std::chrono::days(8)));
  auto longer = backend_->DeriveKey(s, Mechanism{CKM_ECDH1_DERIVE, ecdh}, kp->private_key, tmpl);
  EXPECT_EQ(longer.status().reason(), Reason::kTemplateInconsistent) << longer.status().ToString();
}

}  // namespace
}  // namespace certvault::core
