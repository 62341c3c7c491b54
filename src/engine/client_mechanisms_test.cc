// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The mechanisms clients that pad or chain themselves rely on: CKM_AES_ECB,
// CKM_AES_CBC, CKM_AES_CTR (NIST SP 800-38A Appendix F vectors), CKM_AES_CMAC
// (SP 800-38B Appendix D.1), CKM_RSA_X_509, and CK_GCM_PARAMS' ulIvBits.
#include <algorithm>

#include "src/engine/test_util.h"

namespace certvault::engine {
namespace {

using testing::GenCurve;
using testing::GenRsa;
using testing::RunOp;
using testing::SecretKey;
using testing::TestPair;
using testing::VerifyOp;

Bytes Hex(std::string_view hex) {
  Bytes out;
  EXPECT_TRUE(HexDecode(hex, &out)) << hex;
  return out;
}

// SP 800-38A F.1-F.5: the AES-128 key and the four plaintext blocks.
const char kKey128[] = "2b7e151628aed2a6abf7158809cf4f3c";
const char kPlain[] =
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

std::string HexOf(const Result<SecureVector>& r) { return r.ok() ? HexEncode(*r) : r.status().ToString(); }

// Encrypts in one call and in uneven parts (which must agree), then decrypts.
void CheckVector(const Mechanism& m, std::string_view key_hex, std::string_view ct_hex) {
  auto key = SecretKey(CKK_AES, Hex(key_hex));
  Bytes pt = Hex(kPlain);
  EXPECT_EQ(HexOf(RunOp(OpKind::kEncrypt, m, key, pt)), ct_hex);
  auto op = NewOperation(OpKind::kEncrypt, m, key);
  ASSERT_TRUE(op.ok()) << op.status().ToString();
  SecureVector all, part;
  for (size_t i = 0; i < pt.size(); i += 7) {
    ASSERT_TRUE((*op)->Update(std::span<const uint8_t>(pt).subspan(i, std::min<size_t>(7, pt.size() - i)), &part).ok());
    all.insert(all.end(), part.begin(), part.end());
  }
  ASSERT_TRUE((*op)->Final(&part).ok());
  all.insert(all.end(), part.begin(), part.end());
  EXPECT_EQ(HexEncode(all), ct_hex);
  EXPECT_EQ(HexOf(RunOp(OpKind::kDecrypt, m, key, Hex(ct_hex))), kPlain);
}

TEST(AesEcbTest, Sp80038aF11) {
  CheckVector({CKM_AES_ECB, {}}, kKey128,
              "3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf"
              "43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4");
}

TEST(AesCbcTest, Sp80038aF21) {
  CheckVector({CKM_AES_CBC, Hex("000102030405060708090a0b0c0d0e0f")}, kKey128,
              "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
              "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7");
}

Mechanism Ctr(uint64_t bits, std::string_view block_hex) {
  return Mechanism{CKM_AES_CTR, AesCtrParams{bits, Hex(block_hex)}};
}

TEST(AesCtrTest, Sp80038aF51) {
  CheckVector(Ctr(128, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"), kKey128,
              "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
              "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee");
}

TEST(AesCtrTest, AnyLengthButNoCounterWrap) {
  auto key = SecretKey(CKK_AES, Hex(kKey128));
  // 8 counter bits at 0xfe: two blocks remain before the counter wraps.
  Mechanism m = Ctr(8, "000102030405060708090a0b0c0d0efe");
  auto ct = RunOp(OpKind::kEncrypt, m, key, Bytes(21, 3));
  ASSERT_TRUE(ct.ok()) << ct.status().ToString();
  EXPECT_EQ(ct->size(), 21u);
  EXPECT_TRUE(RunOp(OpKind::kEncrypt, m, key, Bytes(32, 3)).ok());
  EXPECT_EQ(RunOp(OpKind::kEncrypt, m, key, Bytes(33, 3)).status().reason(), Reason::kDataLenRange);
  EXPECT_EQ(NewOperation(OpKind::kEncrypt, Ctr(0, "000102030405060708090a0b0c0d0e0f"), key).status().reason(),
            Reason::kMechanismParamInvalid);
  EXPECT_EQ(NewOperation(OpKind::kEncrypt, Ctr(129, "000102030405060708090a0b0c0d0e0f"), key).status().reason(),
            Reason::kMechanismParamInvalid);
  EXPECT_EQ(NewOperation(OpKind::kEncrypt, {CKM_AES_CTR, Hex("00")}, key).status().reason(),
            Reason::kMechanismParamInvalid);
}

TEST(AesRawModesTest, RefuseNonBlockMultiplesAndBadParams) {
  auto key = SecretKey(CKK_AES, Hex(kKey128));
  Mechanism cbc{CKM_AES_CBC, Bytes(16, 0)};
  Mechanism ecb{CKM_AES_ECB, {}};
  for (const Mechanism& m : {cbc, ecb}) {
    EXPECT_EQ(RunOp(OpKind::kEncrypt, m, key, Bytes(17, 1)).status().reason(), Reason::kDataLenRange);
    EXPECT_EQ(RunOp(OpKind::kDecrypt, m, key, Bytes(15, 1)).status().reason(), Reason::kEncryptedDataLenRange);
    auto op = NewOperation(OpKind::kEncrypt, m, key);
    ASSERT_TRUE(op.ok());
    EXPECT_EQ((*op)->MaxOutputLength(32), 32u);  // no padding block
  }
  EXPECT_EQ(NewOperation(OpKind::kEncrypt, {CKM_AES_CBC, Bytes(8, 0)}, key).status().reason(),
            Reason::kMechanismParamInvalid);
  EXPECT_EQ(NewOperation(OpKind::kEncrypt, {CKM_AES_ECB, Bytes(16, 0)}, key).status().reason(),
            Reason::kMechanismParamInvalid);
  auto hmac_key = SecretKey(CKK_GENERIC_SECRET, Bytes(16, 9));
  EXPECT_EQ(NewOperation(OpKind::kEncrypt, ecb, hmac_key).status().reason(), Reason::kKeyTypeInconsistent);
}

// SP 800-38B D.1 (AES-128): examples 1-4 (empty, 16, 40 and 64 bytes).
TEST(AesCmacTest, Sp80038bD1) {
  auto key = SecretKey(CKK_AES, Hex(kKey128));
  Bytes msg = Hex(kPlain);
  Mechanism m{CKM_AES_CMAC, {}};
  const std::pair<size_t, const char*> cases[] = {{0, "bb1d6929e95937287fa37d129b756746"},
                                                  {16, "070a16b46b4d4144f79bdd9dd04a287c"},
                                                  {40, "dfa66747de9ae63030ca32611497c827"},
                                                  {64, "51f0bebf7e3b9d92fc49741779363cfe"}};
  for (const auto& [len, mac] : cases) {
    std::span<const uint8_t> data(msg.data(), len);
    EXPECT_EQ(HexOf(RunOp(OpKind::kSign, m, key, data)), mac) << len;
    EXPECT_TRUE(VerifyOp(m, key, data, Hex(mac)).ok()) << len;
    Bytes bad = Hex(mac);
    bad[3] ^= 1;
    EXPECT_EQ(VerifyOp(m, key, data, bad).reason(), Reason::kSignatureInvalid);
    EXPECT_EQ(VerifyOp(m, key, data, std::span<const uint8_t>(bad).first(15)).reason(), Reason::kSignatureLenRange);
  }
  EXPECT_EQ(NewOperation(OpKind::kEncrypt, m, key).status().reason(), Reason::kMechanismInvalid);
  auto generic = SecretKey(CKK_GENERIC_SECRET, Bytes(16, 9));
  EXPECT_EQ(NewOperation(OpKind::kSign, m, generic).status().reason(), Reason::kKeyTypeInconsistent);
}

const TestPair& Rsa() {
  static const TestPair* pair = new TestPair(GenRsa(2048));
  return *pair;
}

// CKM_RSA_X_509 over an EMSA-PKCS1-v1_5 block must equal CKM_RSA_PKCS over
// the same DigestInfo: the raw primitive, with the padding done by the caller.
TEST(RsaX509Test, MatchesPkcs1WhenTheCallerPads) {
  Mechanism raw{CKM_RSA_X_509, {}};
  Bytes digest_info = ToBytes("any DigestInfo-sized payload, 35 b.");
  Bytes block = {0x00, 0x01};
  block.insert(block.end(), 256 - 3 - digest_info.size(), 0xFF);
  block.push_back(0x00);
  block.insert(block.end(), digest_info.begin(), digest_info.end());
  auto raw_sig = RunOp(OpKind::kSign, raw, Rsa().priv, block);
  auto pkcs_sig = RunOp(OpKind::kSign, {CKM_RSA_PKCS, {}}, Rsa().priv, digest_info);
  ASSERT_TRUE(raw_sig.ok()) << raw_sig.status().ToString();
  ASSERT_TRUE(pkcs_sig.ok()) << pkcs_sig.status().ToString();
  EXPECT_EQ(*raw_sig, *pkcs_sig);
  EXPECT_TRUE(VerifyOp(raw, Rsa().pub, block, *raw_sig).ok());
  // Shorter input is a big-endian number: the leading zero may be dropped.
  EXPECT_TRUE(VerifyOp(raw, Rsa().pub, std::span<const uint8_t>(block).subspan(1), *raw_sig).ok());
  SecureVector bad = *raw_sig;
  bad[10] ^= 1;
  EXPECT_EQ(VerifyOp(raw, Rsa().pub, block, bad).reason(), Reason::kSignatureInvalid);
  EXPECT_EQ(VerifyOp(raw, Rsa().pub, block, std::span<const uint8_t>(bad).first(255)).reason(),
            Reason::kSignatureLenRange);
}

TEST(RsaX509Test, EncryptDecryptAndRanges) {
  Mechanism raw{CKM_RSA_X_509, {}};
  Bytes msg = ToBytes("short message");
  auto ct = RunOp(OpKind::kEncrypt, raw, Rsa().pub, msg);
  ASSERT_TRUE(ct.ok()) << ct.status().ToString();
  EXPECT_EQ(ct->size(), 256u);
  auto back = RunOp(OpKind::kDecrypt, raw, Rsa().priv, *ct);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 256u);  // k bytes: the number, left-padded
  EXPECT_TRUE(std::all_of(back->begin(), back->end() - msg.size(), [](uint8_t b) { return b == 0; }));
  EXPECT_EQ(Bytes(back->end() - msg.size(), back->end()), msg);
  EXPECT_EQ(RunOp(OpKind::kEncrypt, raw, Rsa().pub, Bytes(256, 0xFF)).status().reason(), Reason::kDataLenRange);
  EXPECT_EQ(RunOp(OpKind::kEncrypt, raw, Rsa().pub, Bytes(257, 0)).status().reason(), Reason::kDataLenRange);
  EXPECT_EQ(RunOp(OpKind::kSign, raw, Rsa().priv, Bytes(256, 0xFF)).status().reason(), Reason::kDataLenRange);
  EXPECT_EQ(RunOp(OpKind::kDecrypt, raw, Rsa().priv, Bytes(255, 1)).status().reason(),
            Reason::kEncryptedDataLenRange);
  EXPECT_EQ(NewOperation(OpKind::kSign, raw, Rsa().pub).status().reason(), Reason::kKeyFunctionNotPermitted);
  EXPECT_EQ(NewOperation(OpKind::kSign, raw, GenCurve("P-256").priv).status().reason(),
            Reason::kKeyTypeInconsistent);
  EXPECT_EQ(NewOperation(OpKind::kSign, {CKM_RSA_X_509, Bytes(4, 0)}, Rsa().priv).status().reason(),
            Reason::kMechanismParamInvalid);
}

// Issue 11: ulIvLen=16 with ulIvBits=64 must work; the IV is ulIvLen bytes.
TEST(AesGcmIvBitsTest, IvLenDecidesNotIvBits) {
  auto key = SecretKey(CKK_AES, Bytes(16, 4));
  GcmParams p{Bytes(16, 7), 64, ToBytes("aad"), 128};
  auto ct = RunOp(OpKind::kEncrypt, {CKM_AES_GCM, p}, key, ToBytes("payload"));
  ASSERT_TRUE(ct.ok()) << ct.status().ToString();
  p.iv_bits = 128;  // the same 16-byte IV: the same ciphertext
  EXPECT_EQ(HexOf(RunOp(OpKind::kEncrypt, {CKM_AES_GCM, p}, key, ToBytes("payload"))), HexEncode(*ct));
  p.iv_bits = 0;
  EXPECT_EQ(HexOf(RunOp(OpKind::kDecrypt, {CKM_AES_GCM, p}, key, *ct)), HexEncode(ToBytes("payload")));
}

TEST(MechanismTableTest, ReportsTheNewMechanisms) {
  const std::pair<MechanismType, uint64_t> expected[] = {
      {CKM_AES_ECB, CKF_ENCRYPT | CKF_DECRYPT}, {CKM_AES_CBC, CKF_ENCRYPT | CKF_DECRYPT},
      {CKM_AES_CTR, CKF_ENCRYPT | CKF_DECRYPT}, {CKM_AES_CMAC, CKF_SIGN | CKF_VERIFY},
      {CKM_RSA_X_509, CKF_SIGN | CKF_VERIFY | CKF_ENCRYPT | CKF_DECRYPT}};
  for (const auto& [type, flags] : expected) {
    auto it = std::find_if(Mechanisms().begin(), Mechanisms().end(),
                           [type = type](const MechanismInfo& m) { return m.type == type; });
    ASSERT_NE(it, Mechanisms().end()) << type;
    EXPECT_EQ(it->flags, flags) << type;
    if (type == CKM_RSA_X_509) {
      EXPECT_EQ(it->min_key_size, 2048u);
    } else {
      EXPECT_EQ(it->min_key_size, 16u);  // AES: bytes (v3.0 §2.14 table)
      EXPECT_EQ(it->max_key_size, 32u);
    }
  }
}

}  // namespace
}  // namespace certvault::engine
