// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/crypto/aead.h"

#include <gtest/gtest.h>

#include "src/base/bytes.h"
#include "src/crypto/random.h"

namespace certvault::crypto {
namespace {

SecretBytes TestKey() {
  auto key = NewRandomSecret(kAeadKeySize);
  EXPECT_TRUE(key.ok());
  return std::move(key).value();
}

TEST(AeadTest, RoundTrip) {
  SecretBytes key = TestKey();
  Bytes aad = ToBytes("object:42/attr:0x11");
  Bytes pt = ToBytes("the quick brown fox");
  auto sealed = AeadSeal(key, aad, pt);
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_EQ(sealed->size(), pt.size() + kAeadOverhead);
  auto opened = AeadOpen(key, aad, *sealed);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(Bytes(opened->begin(), opened->end()), pt);
}

TEST(AeadTest, EmptyPlaintextAndAad) {
  SecretBytes key = TestKey();
  auto sealed = AeadSeal(key, {}, {});
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->size(), kAeadOverhead);
  auto opened = AeadOpen(key, {}, *sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE(opened->empty());
}

TEST(AeadTest, NoncesDiffer) {
  SecretBytes key = TestKey();
  Bytes pt = ToBytes("same");
  auto a = AeadSeal(key, {}, pt);
  auto b = AeadSeal(key, {}, pt);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST(AeadTest, EveryBitFlipFails) {
  SecretBytes key = TestKey();
  Bytes aad = ToBytes("aad");
  auto sealed = AeadSeal(key, aad, ToBytes("secret attribute"));
  ASSERT_TRUE(sealed.ok());
  for (size_t i = 0; i < sealed->size() * 8; ++i) {
    SecureVector bad = *sealed;
    bad[i / 8] ^= static_cast<uint8_t>(1u << (i % 8));
    auto opened = AeadOpen(key, aad, bad);
    ASSERT_FALSE(opened.ok()) << "bit " << i;
    EXPECT_EQ(opened.status().reason(), Reason::kEncryptedDataInvalid);
  }
}

TEST(AeadTest, TruncationFails) {
  SecretBytes key = TestKey();
  auto sealed = AeadSeal(key, {}, ToBytes("secret attribute"));
  ASSERT_TRUE(sealed.ok());
  for (size_t n = 0; n < sealed->size(); ++n) {
    auto opened = AeadOpen(key, {}, std::span<const uint8_t>(sealed->data(), n));
    ASSERT_FALSE(opened.ok()) << "length " << n;
    EXPECT_EQ(opened.status().reason(), Reason::kEncryptedDataInvalid);
  }
}

TEST(AeadTest, WrongAadOrKeyFails) {
  SecretBytes key = TestKey();
  auto sealed = AeadSeal(key, ToBytes("object:1"), ToBytes("v"));
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(AeadOpen(key, ToBytes("object:2"), *sealed).status().reason(), Reason::kEncryptedDataInvalid);
  EXPECT_EQ(AeadOpen(TestKey(), ToBytes("object:1"), *sealed).status().reason(), Reason::kEncryptedDataInvalid);
}

TEST(AeadTest, BadKeySizeRejected) {
  SecretBytes short_key(16);
  EXPECT_EQ(AeadSeal(short_key, {}, ToBytes("x")).status().reason(), Reason::kArgumentsBad);
  EXPECT_EQ(AeadOpen(short_key, {}, Bytes(40)).status().reason(), Reason::kArgumentsBad);
}

}  // namespace
}  // namespace certvault::crypto
