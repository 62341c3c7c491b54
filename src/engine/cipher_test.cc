// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/engine/test_util.h"

namespace certvault::engine {
namespace {

using testing::GenCurve;
using testing::GenRsa;
using testing::RunOp;
using testing::SecretKey;
using testing::TestPair;

const TestPair& Rsa() {
  static const TestPair* pair = new TestPair(GenRsa(2048));
  return *pair;
}

Bytes Plain() { return ToBytes("attack at dawn; bring 37 bytes of text"); }

Mechanism Gcm(Bytes iv = Bytes(12, 7), uint64_t tag_bits = 128, Bytes aad = ToBytes("hdr")) {
  GcmParams p;
  p.iv = std::move(iv);
  p.iv_bits = 0;
  p.aad = std::move(aad);
  p.tag_bits = tag_bits;
  return Mechanism{CKM_AES_GCM, p};
}

// NIST GCM test case 2 (McGrew & Viega): zero key and IV, one zero block.
TEST(AesGcmTest, KnownAnswer) {
  auto key = SecretKey(CKK_AES, Bytes(16, 0));
  auto ct = RunOp(OpKind::kEncrypt, Gcm(Bytes(12, 0), 128, {}), key, Bytes(16, 0));
  ASSERT_TRUE(ct.ok()) << ct.status().ToString();
  EXPECT_EQ(HexEncode(*ct), "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf");
}

TEST(AesGcmTest, RoundTripMultiPartAndTamper) {
  for (size_t key_len : {16, 24, 32}) {
    auto key = SecretKey(CKK_AES, Bytes(key_len, 0x42));
    auto op = NewOperation(OpKind::kEncrypt, Gcm(), key);
    ASSERT_TRUE(op.ok()) << op.status().ToString();
    Bytes pt = Plain();
    SecureVector a, b, tag;
    ASSERT_TRUE((*op)->Update(std::span<const uint8_t>(pt).first(10), &a).ok());
    ASSERT_TRUE((*op)->Update(std::span<const uint8_t>(pt).subspan(10), &b).ok());
    ASSERT_TRUE((*op)->Final(&tag).ok());
    EXPECT_EQ(tag.size(), 16u);
    SecureVector ct = a;
    ct.insert(ct.end(), b.begin(), b.end());
    ct.insert(ct.end(), tag.begin(), tag.end());
    auto single = RunOp(OpKind::kEncrypt, Gcm(), key, pt);
    ASSERT_TRUE(single.ok());
    EXPECT_EQ(*single, ct);
    auto back = RunOp(OpKind::kDecrypt, Gcm(), key, ct);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(Bytes(back->begin(), back->end()), pt);
    for (size_t i = 0; i < ct.size(); i += 7) {
      SecureVector bad = ct;
      bad[i] ^= 0x80;
      EXPECT_EQ(RunOp(OpKind::kDecrypt, Gcm(), key, bad).status().reason(), Reason::kEncryptedDataInvalid);
    }
    EXPECT_EQ(RunOp(OpKind::kDecrypt, Gcm(), key, std::span<const uint8_t>(ct).first(ct.size() - 1)).status().reason(),
              Reason::kEncryptedDataInvalid);
    EXPECT_EQ(RunOp(OpKind::kDecrypt, Gcm(), key, Bytes(5)).status().reason(), Reason::kEncryptedDataLenRange);
    EXPECT_EQ(RunOp(OpKind::kDecrypt, Gcm(Bytes(12, 7), 128, ToBytes("other")), key, ct).status().reason(),
              Reason::kEncryptedDataInvalid);
  }
}

TEST(AesGcmTest, DecryptReleasesNothingBeforeFinal) {
  auto key = SecretKey(CKK_AES, Bytes(32, 1));
  auto ct = RunOp(OpKind::kEncrypt, Gcm(), key, Plain());
  ASSERT_TRUE(ct.ok());
  auto op = NewOperation(OpKind::kDecrypt, Gcm(), key);
  ASSERT_TRUE(op.ok());
  SecureVector out;
  ASSERT_TRUE((*op)->Update(*ct, &out).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ((*op)->MaxOutputLength(0), Plain().size());
  ASSERT_TRUE((*op)->Final(&out).ok());
  EXPECT_EQ(Bytes(out.begin(), out.end()), Plain());
}

TEST(AesGcmTest, ShortTagAndOddIv) {
  auto key = SecretKey(CKK_AES, Bytes(16, 9));
  Mechanism m = Gcm(Bytes(1, 3), 96);
  auto ct = RunOp(OpKind::kEncrypt, m, key, Plain());
  ASSERT_TRUE(ct.ok()) << ct.status().ToString();
  EXPECT_EQ(ct->size(), Plain().size() + 12);
  auto back = RunOp(OpKind::kDecrypt, m, key, *ct);
  ASSERT_TRUE(back.ok());
}

TEST(AesGcmTest, BadParams) {
  auto key = SecretKey(CKK_AES, Bytes(16, 9));
  auto reason = [&](Mechanism m) { return NewOperation(OpKind::kEncrypt, m, key).status().reason(); };
  EXPECT_EQ(reason(Gcm(Bytes())), Reason::kMechanismParamInvalid);
  EXPECT_EQ(reason(Gcm(Bytes(257, 1))), Reason::kMechanismParamInvalid);
  EXPECT_EQ(reason(Gcm(Bytes(12, 1), 64)), Reason::kMechanismParamInvalid);
  EXPECT_EQ(reason(Gcm(Bytes(12, 1), 136)), Reason::kMechanismParamInvalid);
  EXPECT_EQ(reason({CKM_AES_GCM, {}}), Reason::kMechanismParamInvalid);
  EXPECT_EQ(reason({CKM_AES_CBC_PAD, Bytes(8, 0)}), Reason::kMechanismParamInvalid);
  auto hmac_key = SecretKey(CKK_GENERIC_SECRET, Bytes(16, 9));
  EXPECT_EQ(NewOperation(OpKind::kEncrypt, Gcm(), hmac_key).status().reason(), Reason::kKeyTypeInconsistent);
  EXPECT_EQ(NewOperation(OpKind::kEncrypt, Gcm(), Rsa().pub).status().reason(), Reason::kKeyTypeInconsistent);
}

// SP 800-38A F.2.1 CBC-AES128.Encrypt, first block (+ a full padding block).
TEST(AesCbcPadTest, KnownAnswerAndRoundTrip) {
  Bytes key_bytes, iv, pt;
  ASSERT_TRUE(HexDecode("2b7e151628aed2a6abf7158809cf4f3c", &key_bytes));
  ASSERT_TRUE(HexDecode("000102030405060708090a0b0c0d0e0f", &iv));
  ASSERT_TRUE(HexDecode("6bc1bee22e409f96e93d7e117393172a", &pt));
  auto key = SecretKey(CKK_AES, key_bytes);
  auto ct = RunOp(OpKind::kEncrypt, {CKM_AES_CBC_PAD, iv}, key, pt);
  ASSERT_TRUE(ct.ok()) << ct.status().ToString();
  ASSERT_EQ(ct->size(), 32u);
  EXPECT_EQ(HexEncode(std::span<const uint8_t>(*ct).first(16)), "7649abac8119b246cee98e9b12e9197d");
  auto back = RunOp(OpKind::kDecrypt, {CKM_AES_CBC_PAD, iv}, key, *ct);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(Bytes(back->begin(), back->end()), pt);
  EXPECT_EQ(RunOp(OpKind::kDecrypt, {CKM_AES_CBC_PAD, iv}, key, std::span<const uint8_t>(*ct).first(31)).status().reason(),
            Reason::kEncryptedDataLenRange);
  SecureVector bad = *ct;
  bad[31] ^= 0xFF;  // corrupts the padding block
  EXPECT_EQ(RunOp(OpKind::kDecrypt, {CKM_AES_CBC_PAD, iv}, key, bad).status().reason(), Reason::kEncryptedDataInvalid);
}

TEST(AesCbcPadTest, MultiPartMatchesSinglePart) {
  auto key = SecretKey(CKK_AES, Bytes(32, 5));
  Mechanism m{CKM_AES_CBC_PAD, Bytes(16, 1)};
  Bytes pt = Plain();
  auto single = RunOp(OpKind::kEncrypt, m, key, pt);
  ASSERT_TRUE(single.ok());
  auto op = NewOperation(OpKind::kDecrypt, m, key);
  ASSERT_TRUE(op.ok());
  SecureVector all, part;
  for (size_t i = 0; i < single->size(); i += 5) {
    size_t n = std::min<size_t>(5, single->size() - i);
    ASSERT_TRUE((*op)->Update(std::span<const uint8_t>(*single).subspan(i, n), &part).ok());
    all.insert(all.end(), part.begin(), part.end());
  }
  ASSERT_TRUE((*op)->Final(&part).ok());
  all.insert(all.end(), part.begin(), part.end());
  EXPECT_EQ(Bytes(all.begin(), all.end()), pt);
}

TEST(RsaCipherTest, OaepWithLabelRoundTrip) {
  RsaOaepParams p{CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, ToBytes("label")};
  Mechanism m{CKM_RSA_PKCS_OAEP, p};
  auto ct = RunOp(OpKind::kEncrypt, m, Rsa().pub, Plain());
  ASSERT_TRUE(ct.ok()) << ct.status().ToString();
  EXPECT_EQ(ct->size(), 256u);
  auto back = RunOp(OpKind::kDecrypt, m, Rsa().priv, *ct);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(Bytes(back->begin(), back->end()), Plain());
  SecureVector bad = *ct;
  bad[100] ^= 1;
  EXPECT_EQ(RunOp(OpKind::kDecrypt, m, Rsa().priv, bad).status().reason(), Reason::kEncryptedDataInvalid);
  RsaOaepParams other = p;
  other.label = ToBytes("lab3l");
  EXPECT_EQ(RunOp(OpKind::kDecrypt, {CKM_RSA_PKCS_OAEP, other}, Rsa().priv, *ct).status().reason(),
            Reason::kEncryptedDataInvalid);
  EXPECT_EQ(RunOp(OpKind::kDecrypt, m, Rsa().priv, std::span<const uint8_t>(*ct).first(255)).status().reason(),
            Reason::kEncryptedDataLenRange);
  EXPECT_EQ(RunOp(OpKind::kEncrypt, m, Rsa().pub, Bytes(256 - 2 * 32 - 1, 1)).status().reason(), Reason::kDataLenRange);
}

TEST(RsaCipherTest, OaepSha1AndPkcs1) {
  Mechanism sha1{CKM_RSA_PKCS_OAEP, RsaOaepParams{CKM_SHA_1, CKG_MGF1_SHA1, 0, {}}};
  auto ct = RunOp(OpKind::kEncrypt, sha1, Rsa().pub, Plain());
  ASSERT_TRUE(ct.ok()) << ct.status().ToString();
  EXPECT_TRUE(RunOp(OpKind::kDecrypt, sha1, Rsa().priv, *ct).ok());
  Mechanism pkcs{CKM_RSA_PKCS, {}};
  auto ct2 = RunOp(OpKind::kEncrypt, pkcs, Rsa().pub, Plain());
  ASSERT_TRUE(ct2.ok());
  auto back = RunOp(OpKind::kDecrypt, pkcs, Rsa().priv, *ct2);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(Bytes(back->begin(), back->end()), Plain());
}

TEST(RsaCipherTest, BadParamsAndKeys) {
  auto reason = [](Mechanism m, std::shared_ptr<const ReadyKey> k) {
    return NewOperation(OpKind::kEncrypt, m, std::move(k)).status().reason();
  };
  EXPECT_EQ(reason({CKM_RSA_PKCS_OAEP, {}}, Rsa().pub), Reason::kMechanismParamInvalid);
  EXPECT_EQ(reason({CKM_RSA_PKCS_OAEP, RsaOaepParams{CKM_SHA3_256, CKG_MGF1_SHA256, 1, {}}}, Rsa().pub),
            Reason::kMechanismParamInvalid);
  EXPECT_EQ(reason({CKM_RSA_PKCS_OAEP, RsaOaepParams{CKM_SHA256, 77, 1, {}}}, Rsa().pub),
            Reason::kMechanismParamInvalid);
  EXPECT_EQ(reason({CKM_RSA_PKCS_OAEP, RsaOaepParams{CKM_SHA256, CKG_MGF1_SHA256, 5, {}}}, Rsa().pub),
            Reason::kMechanismParamInvalid);
  EXPECT_EQ(reason({CKM_RSA_PKCS, {}}, GenCurve("P-256").pub), Reason::kKeyTypeInconsistent);
  EXPECT_EQ(NewOperation(OpKind::kDecrypt, {CKM_RSA_PKCS, {}}, Rsa().pub).status().reason(),
            Reason::kKeyFunctionNotPermitted);
}

}  // namespace
}  // namespace certvault::engine
