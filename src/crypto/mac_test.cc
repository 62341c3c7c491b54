// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/crypto/mac.h"

#include <gtest/gtest.h>

#include "src/base/bytes.h"

namespace certvault::crypto {
namespace {

SecretBytes Key(std::string_view hex) {
  Bytes b;
  EXPECT_TRUE(HexDecode(hex, &b));
  return SecretBytes(std::span<const uint8_t>(b), SecretAccess::Get());
}

std::span<const uint8_t> Str(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// RFC 4231 §4.3, test case 2.
TEST(MacTest, HmacSha256Rfc4231Case2) {
  SecretBytes key(std::string_view("Jefe"), SecretAccess::Get());
  auto tag = HmacSha256(key, {Str("what do ya want "), Str("for nothing?")});  // split: parts concatenate
  ASSERT_TRUE(tag.ok()) << tag.status().ToString();
  EXPECT_EQ(HexEncode(*tag), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// RFC 5869 appendix A.3 (zero-length salt and info), first 42 bytes.
TEST(MacTest, HkdfSha256Rfc5869CaseA3) {
  auto okm = HkdfSha256(Key("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), "", 42);
  ASSERT_TRUE(okm.ok()) << okm.status().ToString();
  EXPECT_EQ(HexEncode(okm->Bytes(SecretAccess::Get())),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(MacTest, HmacKeyGivesTheSameTagsEveryTime) {
  SecretBytes key(std::string_view("Jefe"), SecretAccess::Get());
  auto keyed = HmacKey::Create(key);
  ASSERT_TRUE(keyed.ok());
  for (int i = 0; i < 3; ++i) {
    auto tag = keyed->Compute({Str("what do ya want for nothing?")});
    ASSERT_TRUE(tag.ok());
    EXPECT_EQ(HexEncode(*tag), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  }
  EXPECT_FALSE(HmacKey::Create(SecretBytes()).ok());
}

TEST(MacTest, BadInputsAreRefused) {
  EXPECT_FALSE(HmacSha256(SecretBytes(), {Str("x")}).ok());
  EXPECT_FALSE(HkdfSha256(SecretBytes(), "i", 32).ok());
  EXPECT_FALSE(HkdfSha256(Key("00"), "i", 0).ok());
  EXPECT_FALSE(HkdfSha256(Key("00"), "i", 255 * 32 + 1).ok());
}

TEST(MacTest, MacEqualIsExact) {
  uint8_t a[3] = {1, 2, 3}, b[3] = {1, 2, 4};
  EXPECT_TRUE(MacEqual(a, a));
  EXPECT_FALSE(MacEqual(a, b));
  EXPECT_FALSE(MacEqual(a, std::span<const uint8_t>(a, 2)));
}

}  // namespace
}  // namespace certvault::crypto
