// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/quorum/shamir.h"

#include <gtest/gtest.h>

#include "src/crypto/random.h"
#include "src/quorum/x25519_seal.h"

namespace certvault::quorum {
namespace {

std::vector<Share> Pick(const std::vector<Share>& all, std::vector<int> idx) {
  std::vector<Share> out;
  for (int i : idx) out.push_back({all[i].x, all[i].y.Clone()});
  return out;
}

TEST(ShamirTest, AnyKOfNRecoverAndKMinusOneDoNot) {
  Result<SecretBytes> secret = crypto::NewRandomSecret(32);
  ASSERT_TRUE(secret.ok());
  Result<std::vector<Share>> shares = SplitSecret(*secret, 3, 5);
  ASSERT_TRUE(shares.ok()) << shares.status().message();
  ASSERT_EQ(shares->size(), 5u);
  for (int a = 0; a < 5; ++a) {
    for (int b = a + 1; b < 5; ++b) {
      for (int c = b + 1; c < 5; ++c) {
        Result<SecretBytes> got = CombineShares(Pick(*shares, {a, b, c}));
        ASSERT_TRUE(got.ok());
        EXPECT_TRUE(*got == *secret) << a << b << c;
      }
      Result<SecretBytes> two = CombineShares(Pick(*shares, {a, b}));
      ASSERT_TRUE(two.ok());
      EXPECT_FALSE(*two == *secret) << a << b;
    }
  }
}

TEST(ShamirTest, RefusesBadParametersAndRepeatedShares) {
  SecretBytes secret(std::string_view("0123456789abcdef"), SecretAccess::Get());
  EXPECT_FALSE(SplitSecret(secret, 1, 3).ok());
  EXPECT_FALSE(SplitSecret(secret, 4, 3).ok());
  EXPECT_FALSE(SplitSecret(SecretBytes(), 2, 3).ok());
  Result<std::vector<Share>> shares = SplitSecret(secret, 2, 3);
  ASSERT_TRUE(shares.ok());
  EXPECT_FALSE(CombineShares(Pick(*shares, {0, 0})).ok());
}

TEST(X25519SealTest, RoundTripAndTamper) {
  Result<X25519KeyPair> pair = NewX25519KeyPair();
  ASSERT_TRUE(pair.ok());
  const uint8_t aad[] = {1, 2, 3};
  const uint8_t msg[] = {9, 8, 7, 6};
  Result<Bytes> sealed = SealToKey(pair->public_key, "label", aad, msg);
  ASSERT_TRUE(sealed.ok());
  Result<SecretBytes> opened = OpenWithKey(pair->private_key, "label", aad, *sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->size(), 4u);
  EXPECT_FALSE(OpenWithKey(pair->private_key, "other", aad, *sealed).ok());
  for (size_t i = 0; i < sealed->size(); i += 7) {
    Bytes bad = *sealed;
    bad[i] ^= 1;
    EXPECT_FALSE(OpenWithKey(pair->private_key, "label", aad, bad).ok()) << i;
  }
  Bytes cut(sealed->begin(), sealed->end() - 1);
  EXPECT_FALSE(OpenWithKey(pair->private_key, "label", aad, cut).ok());
}

}  // namespace
}  // namespace certvault::quorum

namespace certvault::quorum {
namespace {

// A process that combines shares without ever splitting (every guarded verb:
// backup, zeroize, keygen --op) once crashed in gfshare_ctx_free, which
// scrambles through the gfshare_fill_rand pointer only SplitSecret set. The
// "threadsafe" death test re-runs this test alone in a fresh process.
TEST(ShamirDeathTest, CombineInAFreshProcessDoesNotCrash) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        std::vector<Share> shares;
        shares.push_back({1, SecretBytes(32)});
        shares.push_back({2, SecretBytes(32)});
        std::exit(CombineShares(shares).ok() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace certvault::quorum
