// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/selftest/selftest.h"

#include <gtest/gtest.h>

#include "src/crypto/libctx.h"
#include "src/crypto/ossl_ptr.h"
#include "src/selftest/internal.h"
#include "src/selftest/pct.h"

namespace certvault::selftest {
namespace {

TEST(SelfTest, EveryKnownAnswerTestPasses) {
  std::vector<TestResult> results = RunAllTests();
  ASSERT_EQ(results.size() + 1, TestNames().size());  // + the PCT, run per key
  for (const TestResult& r : results) EXPECT_TRUE(r.status.ok()) << r.name << ": " << r.status.ToString();
  EXPECT_TRUE(RunPowerOnSelfTests().ok());
  EXPECT_FALSE(InErrorState());
  EXPECT_TRUE(ErrorStateStatus().ok());
}

TEST(SelfTest, NamesAreStableAndUnique) {
  std::vector<std::string> names = TestNames();
  for (const char* want : {"integrity", "drbg", "sha256", "sha384", "hmac-sha256", "aes-gcm", "ecdsa-p256",
                           "ecdsa-p384", "ed25519", "rsa-pss", "argon2id", "pct"}) {
    EXPECT_EQ(std::count(names.begin(), names.end(), want), 1) << want;
  }
}

TEST(SelfTest, HelpersCompareExactly) {
  std::vector<uint8_t> a = internal::Hex("00ff10"), b = internal::Hex("00FF11");
  EXPECT_EQ(a, (std::vector<uint8_t>{0x00, 0xff, 0x10}));
  EXPECT_FALSE(internal::Equal("t", a, b).ok());
  EXPECT_FALSE(internal::Equal("t", a, {a.data(), 2}).ok());
  EXPECT_EQ(internal::Equal("t", a, b).reason(), Reason::kDeviceError);
}

ossl::UniquePtr<EVP_PKEY> Generate(const char* alg, const char* group = nullptr) {
  if (group == nullptr) return ossl::UniquePtr<EVP_PKEY>(EVP_PKEY_Q_keygen(crypto::LibCtx(), nullptr, alg));
  return ossl::UniquePtr<EVP_PKEY>(EVP_PKEY_Q_keygen(crypto::LibCtx(), nullptr, alg, group));
}

TEST(PairwiseConsistency, PassesForEveryKeyPairType) {
  ossl::UniquePtr<EVP_PKEY> rsa(EVP_PKEY_Q_keygen(crypto::LibCtx(), nullptr, "RSA", size_t{2048}));
  ASSERT_NE(rsa, nullptr);
  EXPECT_TRUE(PairwiseConsistencyTest(rsa.get()).ok());
  for (const char* group : {"P-256", "P-384", "P-521"}) {
    auto ec = Generate("EC", group);
    ASSERT_NE(ec, nullptr);
    EXPECT_TRUE(PairwiseConsistencyTest(ec.get()).ok()) << group;
  }
  for (const char* alg : {"ED25519", "ED448", "X25519", "X448"}) {
    auto key = Generate(alg);
    ASSERT_NE(key, nullptr);
    EXPECT_TRUE(PairwiseConsistencyTest(key.get()).ok()) << alg;
  }
  EXPECT_FALSE(InErrorState());
}

}  // namespace
}  // namespace certvault::selftest
