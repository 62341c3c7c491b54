// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/crypto/kdf.h"

#include <gtest/gtest.h>

#include "src/base/bytes.h"

namespace certvault::crypto {
namespace {

std::string Derive(std::string_view pin, std::string_view salt, Argon2Params p, size_t len) {
  auto out = DeriveArgon2id(SecretBytes(pin, SecretAccess::Get()), AsSpan(salt), p, len);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  if (!out.ok()) return "";
  return HexEncode(out->Bytes(SecretAccess::Get()));
}

// Known answers from the reference implementation (phc-winner-argon2 test.c,
// Argon2id v1.3) and from Debian's `argon2` CLI.
TEST(KdfTest, KnownAnswerReference) {
  EXPECT_EQ(Derive("password", "somesalt", {2, 65536, 1}, 32),
            "09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7");
}

TEST(KdfTest, KnownAnswerOwaspDefaults) {
  EXPECT_EQ(Derive("correct horse", "0123456789abcdef", Argon2Params{}, 32),
            "ae4d8c8b713876044c8347c76986a9b5655944aaacfffe9bea4dff9e7b6a1899");
}

TEST(KdfTest, DefaultsAreOwaspMinimum) {
  Argon2Params p;
  EXPECT_EQ(p.m_cost_kib, 19456u);
  EXPECT_EQ(p.t_cost, 2u);
  EXPECT_EQ(p.parallelism, 1u);
}

TEST(KdfTest, DifferentPinOrSaltDiffers) {
  Argon2Params fast{1, 64, 1};
  std::string a = Derive("1234", "saltsalt", fast, 32);
  EXPECT_NE(a, Derive("1235", "saltsalt", fast, 32));
  EXPECT_NE(a, Derive("1234", "saltsalu", fast, 32));
  EXPECT_EQ(a, Derive("1234", "saltsalt", fast, 32));
}

TEST(KdfTest, RejectsBadParameters) {
  SecretBytes pin("1234", SecretAccess::Get());
  Bytes salt(16, 7);
  const Argon2Params bad[] = {
      {0, 64, 1}, {65, 64, 1}, {1, 64, 0}, {1, 64, 17}, {1, 7, 1}, {1, 31, 4}, {1, 4u * 1024 * 1024 + 1, 1},
  };
  for (const Argon2Params& p : bad) {
    auto out = DeriveArgon2id(pin, salt, p, 32);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().reason(), Reason::kArgumentsBad);
  }
  EXPECT_FALSE(DeriveArgon2id(pin, Bytes(7, 1), {1, 64, 1}, 32).ok());
  EXPECT_FALSE(DeriveArgon2id(pin, salt, {1, 64, 1}, 3).ok());
  EXPECT_FALSE(DeriveArgon2id(pin, salt, {1, 64, 1}, 1025).ok());
  EXPECT_TRUE(ValidateArgon2Params({64, 8 * 16, 16}).ok());
}

}  // namespace
}  // namespace certvault::crypto
