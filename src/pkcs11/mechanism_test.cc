// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/pkcs11/mechanism.h"

#include <gtest/gtest.h>

namespace certvault::pkcs11 {
namespace {

Reason ReasonOf(const CK_MECHANISM& m) { return ParseMechanism(&m).status().reason(); }

TEST(MechanismTest, NullMechanismIsArgumentsBad) {
  EXPECT_EQ(ParseMechanism(nullptr).status().reason(), Reason::kArgumentsBad);
}

TEST(MechanismTest, NoParameter) {
  CK_MECHANISM m{CKM_ECDSA, nullptr, 0};
  auto parsed = ParseMechanism(&m);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->type, CKM_ECDSA);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(parsed->params));
}

TEST(MechanismTest, PssExactSize) {
  CK_RSA_PKCS_PSS_PARAMS p{CKM_SHA256, CKG_MGF1_SHA256, 32};
  CK_MECHANISM m{CKM_SHA256_RSA_PKCS_PSS, &p, sizeof(p)};
  auto parsed = ParseMechanism(&m);
  ASSERT_TRUE(parsed.ok());
  const auto& pss = std::get<RsaPssParams>(parsed->params);
  EXPECT_EQ(pss.hash_alg, CKM_SHA256);
  EXPECT_EQ(pss.mgf, CKG_MGF1_SHA256);
  EXPECT_EQ(pss.salt_len, 32u);
  m.ulParameterLen = sizeof(p) - 1;
  EXPECT_EQ(ReasonOf(m), Reason::kMechanismParamInvalid);
  m.ulParameterLen = sizeof(p) + 8;
  EXPECT_EQ(ReasonOf(m), Reason::kMechanismParamInvalid);
  CK_MECHANISM missing{CKM_RSA_PKCS_PSS, nullptr, 0};
  EXPECT_EQ(ReasonOf(missing), Reason::kMechanismParamInvalid);
}

TEST(MechanismTest, OaepLabelAndSource) {
  CK_BYTE label[] = {'l', 'b'};
  CK_RSA_PKCS_OAEP_PARAMS p{CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, label, sizeof(label)};
  CK_MECHANISM m{CKM_RSA_PKCS_OAEP, &p, sizeof(p)};
  auto parsed = ParseMechanism(&m);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(std::get<RsaOaepParams>(parsed->params).label, Bytes({'l', 'b'}));
  p.pSourceData = nullptr;  // NULL with a length
  EXPECT_EQ(ReasonOf(m), Reason::kMechanismParamInvalid);
  p.pSourceData = label;
  p.source = 7;
  EXPECT_EQ(ReasonOf(m), Reason::kMechanismParamInvalid);
}

TEST(MechanismTest, Gcm) {
  CK_BYTE iv[12] = {};
  CK_BYTE aad[3] = {1, 2, 3};
  CK_GCM_PARAMS p{iv, sizeof(iv), 96, aad, sizeof(aad), 128};
  CK_MECHANISM m{CKM_AES_GCM, &p, sizeof(p)};
  auto parsed = ParseMechanism(&m);
  ASSERT_TRUE(parsed.ok());
  const auto& gcm = std::get<GcmParams>(parsed->params);
  EXPECT_EQ(gcm.iv.size(), 12u);
  EXPECT_EQ(gcm.aad.size(), 3u);
  EXPECT_EQ(gcm.tag_bits, 128u);
  p.ulTagBits = 129;
  EXPECT_EQ(ReasonOf(m), Reason::kMechanismParamInvalid);
  p.ulTagBits = 128;
  p.ulIvLen = 0;
  EXPECT_EQ(ReasonOf(m), Reason::kMechanismParamInvalid);
  p.ulIvLen = 12;
  p.pAAD = nullptr;
  EXPECT_EQ(ReasonOf(m), Reason::kMechanismParamInvalid);
}

// Issue 11: ulIvLen decides the IV length; ulIvBits=64 with 16 bytes parses.
TEST(MechanismTest, GcmIvLenNotIvBits) {
  CK_BYTE iv[16] = {};
  CK_GCM_PARAMS p{iv, sizeof(iv), 64, nullptr, 0, 128};
  CK_MECHANISM m{CKM_AES_GCM, &p, sizeof(p)};
  auto parsed = ParseMechanism(&m);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(std::get<GcmParams>(parsed->params).iv.size(), 16u);
}

TEST(MechanismTest, AesCtr) {
  CK_AES_CTR_PARAMS p{};
  p.ulCounterBits = 32;
  p.cb[15] = 9;
  CK_MECHANISM m{CKM_AES_CTR, &p, sizeof(p)};
  auto parsed = ParseMechanism(&m);
  ASSERT_TRUE(parsed.ok());
  const auto& ctr = std::get<AesCtrParams>(parsed->params);
  EXPECT_EQ(ctr.counter_bits, 32u);
  ASSERT_EQ(ctr.counter_block.size(), 16u);
  EXPECT_EQ(ctr.counter_block[15], 9);
  m.ulParameterLen = 16;
  EXPECT_EQ(ReasonOf(m), Reason::kMechanismParamInvalid);
  CK_MECHANISM none{CKM_AES_CTR, nullptr, 0};
  EXPECT_EQ(ReasonOf(none), Reason::kMechanismParamInvalid);
}

TEST(MechanismTest, Ecdh) {
  CK_BYTE point[65] = {4};
  CK_ECDH1_DERIVE_PARAMS p{CKD_NULL, 0, nullptr, sizeof(point), point};
  CK_MECHANISM m{CKM_ECDH1_DERIVE, &p, sizeof(p)};
  auto parsed = ParseMechanism(&m);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(std::get<Ecdh1DeriveParams>(parsed->params).public_data.size(), 65u);
  p.ulPublicDataLen = 0;
  EXPECT_EQ(ReasonOf(m), Reason::kMechanismParamInvalid);
}

TEST(MechanismTest, EddsaOptionalParams) {
  CK_MECHANISM bare{CKM_EDDSA, nullptr, 0};
  ASSERT_TRUE(ParseMechanism(&bare).ok());
  CK_BYTE ctx[] = {'c'};
  CK_EDDSA_PARAMS p{CK_TRUE, sizeof(ctx), ctx};
  CK_MECHANISM m{CKM_EDDSA, &p, sizeof(p)};
  auto parsed = ParseMechanism(&m);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(std::get<EddsaParams>(parsed->params).ph_flag);
  m.ulParameterLen = 3;
  EXPECT_EQ(ReasonOf(m), Reason::kMechanismParamInvalid);
}

TEST(MechanismTest, CbcIvMustBe16Bytes) {
  CK_BYTE iv[16] = {};
  CK_MECHANISM m{CKM_AES_CBC_PAD, iv, sizeof(iv)};
  auto parsed = ParseMechanism(&m);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(std::get<Bytes>(parsed->params).size(), 16u);
  m.ulParameterLen = 8;
  EXPECT_EQ(ReasonOf(m), Reason::kMechanismParamInvalid);
}

TEST(MechanismTest, OpaqueParameterBounds) {
  CK_MECHANISM m{0x80000001UL, nullptr, 4};
  EXPECT_EQ(ReasonOf(m), Reason::kMechanismParamInvalid);
}

}  // namespace
}  // namespace certvault::pkcs11
