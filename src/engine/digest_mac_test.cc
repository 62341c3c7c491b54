// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include <set>

#include "src/engine/test_util.h"

namespace certvault::engine {
namespace {

using testing::RunOp;
using testing::SecretKey;
using testing::VerifyOp;

std::string DigestHex(MechanismType m, std::string_view data) {
  auto out = RunOp(OpKind::kDigest, {m, {}}, nullptr, AsSpan(data));
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? HexEncode(*out) : "";
}

// FIPS 180-4 / FIPS 202 example values for "abc".
TEST(DigestTest, KnownAnswers) {
  EXPECT_EQ(DigestHex(CKM_SHA_1, "abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(DigestHex(CKM_SHA224, "abc"), "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7");
  EXPECT_EQ(DigestHex(CKM_SHA256, "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(DigestHex(CKM_SHA3_256, "abc"), "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
  EXPECT_EQ(DigestHex(CKM_SHA3_224, "abc"), "e642824c3f8cf24ad09234ee7d3c766fc9a3a5168d0c94ad73b46fdf");
  EXPECT_EQ(DigestHex(CKM_SHA384, "").size(), 96u);
  EXPECT_EQ(DigestHex(CKM_SHA3_512, "").size(), 128u);
}

TEST(DigestTest, MultiPartAndErrors) {
  auto op = NewOperation(OpKind::kDigest, {CKM_SHA256, {}}, nullptr);
  ASSERT_TRUE(op.ok());
  SecureVector out;
  ASSERT_TRUE((*op)->Update(AsSpan("a"), &out).ok());
  ASSERT_TRUE((*op)->Update(AsSpan("bc"), &out).ok());
  ASSERT_TRUE((*op)->Final(&out).ok());
  EXPECT_EQ(HexEncode(out), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ((*op)->MaxOutputLength(0), 32u);
  EXPECT_EQ(NewOperation(OpKind::kDigest, {CKM_AES_GCM, {}}, nullptr).status().reason(), Reason::kMechanismInvalid);
  EXPECT_EQ(NewOperation(OpKind::kDigest, {CKM_SHA256, Bytes{1}}, nullptr).status().reason(),
            Reason::kMechanismParamInvalid);
}

// RFC 4231 test case 2.
TEST(HmacTest, KnownAnswerAndVerify) {
  auto key = SecretKey(CKK_GENERIC_SECRET, ToBytes("Jefe"));
  Bytes data = ToBytes("what do ya want for nothing?");
  auto mac = RunOp(OpKind::kSign, {CKM_SHA256_HMAC, {}}, key, data);
  ASSERT_TRUE(mac.ok()) << mac.status().ToString();
  EXPECT_EQ(HexEncode(*mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_TRUE(VerifyOp({CKM_SHA256_HMAC, {}}, key, data, *mac).ok());
  SecureVector bad = *mac;
  bad[0] ^= 1;
  EXPECT_EQ(VerifyOp({CKM_SHA256_HMAC, {}}, key, data, bad).reason(), Reason::kSignatureInvalid);
  EXPECT_EQ(VerifyOp({CKM_SHA256_HMAC, {}}, key, data, std::span<const uint8_t>(*mac).first(31)).reason(),
            Reason::kSignatureLenRange);
  auto sha3 = RunOp(OpKind::kSign, {CKM_SHA3_512_HMAC, {}}, key, data);
  ASSERT_TRUE(sha3.ok());
  EXPECT_EQ(sha3->size(), 64u);
}

TEST(HmacTest, KeyTypes) {
  auto dedicated = SecretKey(CKK_SHA256_HMAC, Bytes(32, 1));
  EXPECT_TRUE(NewOperation(OpKind::kSign, {CKM_SHA256_HMAC, {}}, dedicated).ok());
  EXPECT_EQ(NewOperation(OpKind::kSign, {CKM_SHA384_HMAC, {}}, dedicated).status().reason(),
            Reason::kKeyTypeInconsistent);
  auto aes = SecretKey(CKK_AES, Bytes(32, 1));
  EXPECT_EQ(NewOperation(OpKind::kSign, {CKM_SHA256_HMAC, {}}, aes).status().reason(), Reason::kKeyTypeInconsistent);
  EXPECT_EQ(NewOperation(OpKind::kEncrypt, {CKM_SHA256_HMAC, {}}, dedicated).status().reason(),
            Reason::kMechanismInvalid);
}

TEST(MechanismsTest, TableIsConsistent) {
  std::set<MechanismType> seen;
  for (const MechanismInfo& m : Mechanisms()) {
    EXPECT_TRUE(seen.insert(m.type).second) << std::hex << m.type;
    EXPECT_NE(m.flags, 0u);
    EXPECT_LE(m.min_key_size, m.max_key_size);
    if (m.type == CKM_AES_GCM) {
      EXPECT_EQ(m.min_key_size, 16u);
      EXPECT_EQ(m.max_key_size, 32u);
      EXPECT_TRUE(m.flags & CKF_WRAP);
    }
    if (m.type == CKM_ECDSA) {
      EXPECT_TRUE(m.flags & CKF_EC_NAMEDCURVE);
      EXPECT_FALSE(m.flags & CKF_ENCRYPT);
    }
  }
  for (MechanismType m : {CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_EDDSA, CKM_ECDH1_DERIVE, CKM_AES_KEY_WRAP_KWP,
                          CKM_AES_KEY_WRAP_PAD, CKM_SHA3_256, CKM_SHA256_HMAC, CKM_GENERIC_SECRET_KEY_GEN}) {
    EXPECT_TRUE(seen.count(m)) << std::hex << m;
  }
}

TEST(RandomTest, Fills) {
  Bytes a(16), b(16);
  ASSERT_TRUE(RandomBytes(a).ok());
  ASSERT_TRUE(RandomBytes(b).ok());
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace certvault::engine
