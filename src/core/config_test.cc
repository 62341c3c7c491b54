// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/core/config.h"

#include <gtest/gtest.h>

namespace certvault::core {
namespace {

TEST(ConfigTest, ParsesVaultAndTokenSections) {
  Config c;
  Status st = ParseConfig(
      "# comment\n[vault]\nkdf_memory_kib = 65536\npin_max_tries = 5\n"
      "[token \"line-1\"]\nmechanisms = CKM_ECDSA, 0x1057 # eddsa\n",
      &c);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(c.kdf.memory_kib, 65536u);
  EXPECT_EQ(c.pin_max_tries, 5u);
  auto allowed = c.AllowedMechanisms("line-1");
  ASSERT_TRUE(allowed.has_value());
  EXPECT_EQ(allowed->size(), 2u);
  EXPECT_TRUE(allowed->count(CKM_ECDSA));
  EXPECT_FALSE(c.AllowedMechanisms("other").has_value());
}

TEST(ConfigTest, RejectsBadInputWithLineNumbers) {
  Config c;
  Status st = ParseConfig("[vault]\nkdf_iterations = 0\n", &c);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("line 2"), std::string_view::npos);
  EXPECT_FALSE(ParseConfig("[vault]\nunknown = 1\n", &c).ok());
  EXPECT_FALSE(ParseConfig("[token \"x\"]\nmechanisms = CKM_NOPE\n", &c).ok());
  EXPECT_FALSE(ParseConfig("[vault\n", &c).ok());
  EXPECT_FALSE(ParseConfig("key = 1\n", &c).ok());
}

TEST(ConfigTest, MechanismNames) {
  EXPECT_EQ(MechanismFromName("CKM_EDDSA"), 0x1057u);
  EXPECT_EQ(MechanismFromName("0x1041"), 0x1041u);
  EXPECT_FALSE(MechanismFromName("0xzz").has_value());
  EXPECT_EQ(MechanismName(0x1041), "CKM_ECDSA");
}

}  // namespace
}  // namespace certvault::core
