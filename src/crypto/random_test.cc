// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/crypto/random.h"

#include <gtest/gtest.h>

#include <vector>

namespace certvault::crypto {
namespace {

TEST(RandomTest, FillsAndDiffers) {
  std::vector<uint8_t> a(32), b(32);
  ASSERT_TRUE(RandomBytes(a).ok());
  ASSERT_TRUE(RandomBytes(b).ok());
  EXPECT_NE(a, b);
  EXPECT_NE(a, std::vector<uint8_t>(32, 0));
}

TEST(RandomTest, SecretFillsAndDiffers) {
  auto a = NewRandomSecret(32);
  auto b = NewRandomSecret(32);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 32u);
  EXPECT_FALSE(*a == *b);
  std::vector<uint8_t> c(0);
  EXPECT_TRUE(RandomSecretBytes(c).ok());
}

}  // namespace
}  // namespace certvault::crypto
