// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/engine/test_util.h"

namespace certvault::engine {
namespace {

using testing::GenCurve;
using testing::GenRsa;
using testing::LoadPair;
using testing::RunOp;
using testing::SecretKey;
using testing::TestPair;
using testing::VerifyOp;

Bytes Hex(std::string_view h) {
  Bytes out;
  EXPECT_TRUE(HexDecode(h, &out));
  return out;
}

std::shared_ptr<const ReadyKey> Load(const NewKey& k) {
  auto key = LoadKey(k.attrs, &k.material);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return key.ok() ? *key : nullptr;
}

// RFC 5649 §6, 192-bit KEK, 20-octet key.
TEST(WrapTest, KwpKnownAnswer) {
  auto kek = SecretKey(CKK_AES, Hex("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8"));
  auto key = SecretKey(CKK_GENERIC_SECRET, Hex("c37b7e6492584340bed12207808941155068f738"));
  for (MechanismType m : {MechanismType{CKM_AES_KEY_WRAP_PAD}, MechanismType{CKM_AES_KEY_WRAP_KWP}}) {
    auto wrapped = WrapKey({m, {}}, *kek, *key);
    ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
    EXPECT_EQ(HexEncode(*wrapped), "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a");
    auto back = UnwrapKey({m, {}}, *kek, *wrapped, CKO_SECRET_KEY, CKK_GENERIC_SECRET);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_TRUE(back->material == key->secret);
    EXPECT_EQ(back->attrs.GetUlong(CKA_VALUE_LEN), 20u);
    for (size_t i = 0; i < wrapped->size(); ++i) {
      SecureVector bad = *wrapped;
      bad[i] ^= 0x10;
      EXPECT_EQ(UnwrapKey({m, {}}, *kek, bad, CKO_SECRET_KEY, CKK_GENERIC_SECRET).status().reason(),
                Reason::kWrappedKeyInvalid);
    }
    EXPECT_EQ(UnwrapKey({m, {}}, *kek, std::span<const uint8_t>(*wrapped).first(24), CKO_SECRET_KEY,
                        CKK_GENERIC_SECRET).status().reason(),
              Reason::kWrappedKeyInvalid);
  }
}

TEST(WrapTest, PrivateKeysAsPkcs8UnderKwpAndGcm) {
  auto kek = SecretKey(CKK_AES, Bytes(32, 0x33));
  GcmParams gp;
  gp.iv = Bytes(12, 1);
  gp.tag_bits = 128;
  for (const Mechanism& m : {Mechanism{CKM_AES_KEY_WRAP_KWP, {}}, Mechanism{CKM_AES_GCM, gp}}) {
    for (const char* curve : {"P-256", "Ed25519"}) {
      TestPair p = GenCurve(curve);
      auto wrapped = WrapKey(m, *kek, *p.priv);
      ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
      KeyType type = *p.generated.private_key.attrs.GetUlong(CKA_KEY_TYPE);
      auto back = UnwrapKey(m, *kek, *wrapped, CKO_PRIVATE_KEY, type);
      ASSERT_TRUE(back.ok()) << back.status().ToString();
      auto key = Load(*back);
      ASSERT_NE(key, nullptr);
      Mechanism sign{std::string_view(curve) == "P-256" ? CKM_ECDSA_SHA256 : CKM_EDDSA, {}};
      auto sig = RunOp(OpKind::kSign, sign, key, ToBytes("hello"));
      ASSERT_TRUE(sig.ok());
      EXPECT_TRUE(VerifyOp(sign, p.pub, ToBytes("hello"), *sig).ok());
      EXPECT_EQ(UnwrapKey(m, *kek, *wrapped, CKO_PRIVATE_KEY, CKK_RSA).status().reason(),
                Reason::kTemplateInconsistent);
      SecureVector bad = *wrapped;
      bad[bad.size() / 2] ^= 1;
      EXPECT_EQ(UnwrapKey(m, *kek, bad, CKO_PRIVATE_KEY, type).status().reason(), Reason::kWrappedKeyInvalid);
    }
  }
}

TEST(WrapTest, RsaOaepWrapsSecretKeys) {
  TestPair rsa = GenRsa(2048);
  auto aes = SecretKey(CKK_AES, Bytes(32, 0x5A));
  Mechanism m{CKM_RSA_PKCS_OAEP, RsaOaepParams{CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, {}}};
  auto wrapped = WrapKey(m, *rsa.pub, *aes);
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  auto back = UnwrapKey(m, *rsa.priv, *wrapped, CKO_SECRET_KEY, CKK_AES);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->material == aes->secret);
  SecureVector bad = *wrapped;
  bad[3] ^= 4;
  EXPECT_EQ(UnwrapKey(m, *rsa.priv, bad, CKO_SECRET_KEY, CKK_AES).status().reason(), Reason::kWrappedKeyInvalid);
  EXPECT_EQ(WrapKey(m, *rsa.pub, *rsa.priv).status().reason(), Reason::kKeyNotWrappable);
  EXPECT_EQ(WrapKey({CKM_AES_KEY_WRAP_KWP, {}}, *rsa.pub, *aes).status().reason(), Reason::kKeyTypeInconsistent);
  EXPECT_EQ(WrapKey({CKM_SHA256, {}}, *aes, *aes).status().reason(), Reason::kMechanismInvalid);
  EXPECT_EQ(UnwrapKey(m, *rsa.priv, *wrapped, CKO_SECRET_KEY, CKK_AES + 1000).status().reason(),
            Reason::kKeyTypeInconsistent);
}

Mechanism Ecdh(uint64_t kdf, Bytes public_data, Bytes shared = {}) {
  Ecdh1DeriveParams p;
  p.kdf = kdf;
  p.public_data = std::move(public_data);
  p.shared_data = std::move(shared);
  return Mechanism{CKM_ECDH1_DERIVE, p};
}

Bytes PointOf(const TestPair& p) {
  auto v = p.generated.public_key.attrs.GetBytes(CKA_EC_POINT);
  return Bytes(v->begin(), v->end());
}

TEST(DeriveTest, EcdhBothSidesAgree) {
  for (const char* curve : {"P-256", "P-384", "P-521", "X25519", "X448"}) {
    TestPair a = GenCurve(curve), b = GenCurve(curve);
    AttributeSet tmpl;
    tmpl.SetUlong(CKA_KEY_TYPE, CKK_AES);
    tmpl.SetUlong(CKA_VALUE_LEN, 32);
    auto ka = DeriveKey(Ecdh(CKD_SHA256_KDF, PointOf(b), ToBytes("info")), *a.priv, tmpl);
    Bytes der_point = PointOf(a);
    Bytes raw_point(der_point.begin() + (der_point.size() > 130 ? 3 : 2), der_point.end());  // raw form too
    auto kb = DeriveKey(Ecdh(CKD_SHA256_KDF, raw_point, ToBytes("info")), *b.priv, tmpl);
    ASSERT_TRUE(ka.ok() && kb.ok()) << curve << ka.status().ToString() << kb.status().ToString();
    EXPECT_TRUE(ka->material == kb->material) << curve;
    EXPECT_EQ(ka->material.size(), 32u);
    auto za = DeriveKey(Ecdh(CKD_NULL, PointOf(b)), *a.priv, AttributeSet());
    auto zb = DeriveKey(Ecdh(CKD_NULL, PointOf(a)), *b.priv, AttributeSet());
    ASSERT_TRUE(za.ok() && zb.ok());
    EXPECT_TRUE(za->material == zb->material);
    EXPECT_FALSE(za->material == ka->material);
  }
}

// RFC 7748 §6.1.
TEST(DeriveTest, X25519KnownAnswer) {
  AttributeSet t;
  t.SetUlong(CKA_CLASS, CKO_PRIVATE_KEY);
  t.SetUlong(CKA_KEY_TYPE, CKK_EC_MONTGOMERY);
  t.Set(CKA_EC_PARAMS, testing::EcParamsFor("X25519"));
  t.Set(CKA_VALUE, Hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  auto imported = ImportKey(t);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_FALSE(imported->attrs.Has(CKA_VALUE));
  auto key = Load(*imported);
  ASSERT_NE(key, nullptr);
  auto z = DeriveKey(Ecdh(CKD_NULL, Hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")), *key,
                     AttributeSet());
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  EXPECT_EQ(HexEncode(z->material.Bytes(SecretAccess::Get())),
            "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
}

TEST(DeriveTest, BadParams) {
  TestPair a = GenCurve("P-256"), b = GenCurve("P-256");
  AttributeSet none;
  EXPECT_EQ(DeriveKey({CKM_ECDH1_DERIVE, {}}, *a.priv, none).status().reason(), Reason::kMechanismParamInvalid);
  EXPECT_EQ(DeriveKey(Ecdh(0x77, PointOf(b)), *a.priv, none).status().reason(), Reason::kMechanismParamInvalid);
  EXPECT_EQ(DeriveKey(Ecdh(CKD_NULL, PointOf(b), ToBytes("x")), *a.priv, none).status().reason(),
            Reason::kMechanismParamInvalid);
  Bytes off_curve = PointOf(b);
  off_curve.back() ^= 1;
  EXPECT_EQ(DeriveKey(Ecdh(CKD_NULL, off_curve), *a.priv, none).status().reason(), Reason::kMechanismParamInvalid);
  EXPECT_EQ(DeriveKey(Ecdh(CKD_NULL, Bytes(10, 4)), *a.priv, none).status().reason(), Reason::kMechanismParamInvalid);
  EXPECT_EQ(DeriveKey(Ecdh(CKD_NULL, PointOf(b)), *a.pub, none).status().reason(), Reason::kKeyTypeInconsistent);
  TestPair ed = GenCurve("Ed25519");
  EXPECT_EQ(DeriveKey(Ecdh(CKD_NULL, PointOf(b)), *ed.priv, none).status().reason(), Reason::kKeyTypeInconsistent);
  AttributeSet aes_no_len;
  aes_no_len.SetUlong(CKA_KEY_TYPE, CKK_AES);
  EXPECT_EQ(DeriveKey(Ecdh(CKD_SHA256_KDF, PointOf(b)), *a.priv, aes_no_len).status().reason(),
            Reason::kTemplateIncomplete);
}

}  // namespace
}  // namespace certvault::engine
