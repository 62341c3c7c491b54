// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/engine/test_util.h"

namespace certvault::engine {
namespace {

using testing::EcParamsFor;
using testing::GenCurve;
using testing::GenPair;
using testing::GenRsa;
using testing::RunOp;
using testing::TestPair;
using testing::VerifyOp;

const TestPair& Rsa() {
  static const TestPair* pair = new TestPair(GenRsa(2048));
  return *pair;
}

void CopyAttr(const AttributeSet& from, AttributeType t, AttributeSet* to) {
  auto v = from.GetBytes(t);
  ASSERT_TRUE(v.has_value()) << std::hex << t;
  to->Set(t, *v);
}

TEST(KeysTest, RsaImportFromComponents) {
  const TestPair& p = Rsa();
  AttributeSet t;
  t.SetUlong(CKA_CLASS, CKO_PRIVATE_KEY);
  t.SetUlong(CKA_KEY_TYPE, CKK_RSA);
  t.SetString(CKA_LABEL, "imported");
  CopyAttr(p.generated.public_key.attrs, CKA_MODULUS, &t);
  CopyAttr(p.generated.public_key.attrs, CKA_PUBLIC_EXPONENT, &t);
  for (AttributeType a : {CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2,
                          CKA_COEFFICIENT}) {
    auto v = PrivateComponent(*p.priv, a);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    t.Set(a, *v);
  }
  auto imported = ImportKey(t);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_FALSE(imported->attrs.Has(CKA_PRIVATE_EXPONENT));
  EXPECT_FALSE(imported->attrs.Has(CKA_PRIME_1));
  EXPECT_TRUE(imported->attrs.Has(CKA_LABEL));
  EXPECT_TRUE(imported->attrs.Has(CKA_PUBLIC_KEY_INFO));
  auto key = LoadKey(imported->attrs, &imported->material);
  ASSERT_TRUE(key.ok());
  auto sig = RunOp(OpKind::kSign, {CKM_SHA256_RSA_PKCS, {}}, *key, ToBytes("x"));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(VerifyOp({CKM_SHA256_RSA_PKCS, {}}, p.pub, ToBytes("x"), *sig).ok());
  t.Erase(CKA_COEFFICIENT);
  EXPECT_EQ(ImportKey(t).status().reason(), Reason::kTemplateIncomplete);
  t.Set(CKA_COEFFICIENT, Bytes{1, 2, 3});
  EXPECT_EQ(ImportKey(t).status().reason(), Reason::kAttributeValueInvalid);
}

TEST(KeysTest, PublicKeysFromComponents) {
  for (const char* curve : {"P-384", "Ed25519", "X448"}) {
    TestPair p = GenCurve(curve);
    AttributeSet pub = p.generated.public_key.attrs;
    pub.Erase(CKA_PUBLIC_KEY_INFO);
    auto imported = ImportKey(pub);
    ASSERT_TRUE(imported.ok()) << curve << imported.status().ToString();
    EXPECT_EQ(imported->attrs.GetBytes(CKA_PUBLIC_KEY_INFO)->size(),
              p.generated.public_key.attrs.GetBytes(CKA_PUBLIC_KEY_INFO)->size());
    auto key = LoadKey(pub, nullptr);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(EVP_PKEY_eq((*key)->pkey.get(), p.pub->pkey.get()), 1);
  }
  AttributeSet rsa = Rsa().generated.public_key.attrs;
  rsa.Erase(CKA_PUBLIC_KEY_INFO);
  auto key = LoadKey(rsa, nullptr);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ((*key)->key_bits, 2048u);
  rsa.Erase(CKA_MODULUS);
  EXPECT_EQ(LoadKey(rsa, nullptr).status().reason(), Reason::kTemplateIncomplete);
}

TEST(KeysTest, EcParamsForms) {
  AttributeSet t;
  t.SetString(CKA_EC_PARAMS, std::string("\x13\x0c" "edwards25519", 14));
  TestPair p = GenPair(CKM_EC_EDWARDS_KEY_PAIR_GEN, t);
  ASSERT_NE(p.priv, nullptr);
  EXPECT_EQ(p.priv->key_bits, 255u);
  EXPECT_EQ(p.generated.public_key.attrs.GetBytes(CKA_EC_PARAMS)->size(), 14u);  // echoed
  auto reason = [](MechanismType m, Bytes params) {
    AttributeSet tmpl;
    tmpl.Set(CKA_EC_PARAMS, params);
    return GenerateKeyPair({m, {}}, tmpl, AttributeSet()).status().reason();
  };
  Bytes explicit_params = {0x30, 0x03, 0x02, 0x01, 0x01};
  EXPECT_EQ(reason(CKM_EC_KEY_PAIR_GEN, explicit_params), Reason::kCurveNotSupported);
  EXPECT_EQ(reason(CKM_EC_KEY_PAIR_GEN, {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x0A}), Reason::kCurveNotSupported);
  EXPECT_EQ(reason(CKM_EC_KEY_PAIR_GEN, {0x06, 0x09, 0x01}), Reason::kDomainParamsInvalid);
  EXPECT_EQ(reason(CKM_EC_KEY_PAIR_GEN, EcParamsFor("Ed25519")), Reason::kTemplateInconsistent);
  EXPECT_EQ(reason(CKM_EC_MONTGOMERY_KEY_PAIR_GEN, EcParamsFor("P-256")), Reason::kTemplateInconsistent);
  EXPECT_EQ(GenerateKeyPair({CKM_EC_KEY_PAIR_GEN, {}}, AttributeSet(), AttributeSet()).status().reason(),
            Reason::kTemplateIncomplete);
}

TEST(KeysTest, RsaGenerationLimits) {
  auto gen = [](uint64_t bits, Bytes e) {
    AttributeSet t;
    t.SetUlong(CKA_MODULUS_BITS, bits);
    if (!e.empty()) t.Set(CKA_PUBLIC_EXPONENT, e);
    return GenerateKeyPair({CKM_RSA_PKCS_KEY_PAIR_GEN, {}}, t, AttributeSet()).status().reason();
  };
  EXPECT_EQ(gen(1024, {}), Reason::kKeySizeRange);
  EXPECT_EQ(gen(8192, {}), Reason::kKeySizeRange);
  EXPECT_EQ(gen(2048, {0x03}), Reason::kAttributeValueInvalid);
  EXPECT_EQ(gen(2048, {0x01, 0x00, 0x00}), Reason::kAttributeValueInvalid);
  EXPECT_EQ(GenerateKeyPair({CKM_RSA_PKCS_KEY_PAIR_GEN, {}}, AttributeSet(), AttributeSet()).status().reason(),
            Reason::kTemplateIncomplete);
  AttributeSet wrong_type;
  wrong_type.SetUlong(CKA_MODULUS_BITS, 2048);
  wrong_type.SetUlong(CKA_KEY_TYPE, CKK_EC);
  EXPECT_EQ(GenerateKeyPair({CKM_RSA_PKCS_KEY_PAIR_GEN, {}}, wrong_type, AttributeSet()).status().reason(),
            Reason::kTemplateInconsistent);
}

TEST(KeysTest, Pkcs8RoundTripAndMismatch) {
  TestPair p = GenCurve("P-521");
  auto imported = ImportPkcs8(p.generated.private_key.material);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->attrs.GetUlong(CKA_KEY_TYPE), uint64_t{CKK_EC});
  EXPECT_TRUE(imported->attrs.Has(CKA_EC_PARAMS));
  EXPECT_FALSE(imported->attrs.Has(CKA_EC_POINT));  // public-key attribute only
  EXPECT_TRUE(imported->material == p.generated.private_key.material);
  SecretBytes garbage(std::string_view("\x30\x03\x02\x01\x00"), SecretAccess::Get());
  EXPECT_EQ(ImportPkcs8(garbage).status().reason(), Reason::kDataInvalid);
  SecretBytes truncated(p.generated.private_key.material.Bytes(SecretAccess::Get()).first(20), SecretAccess::Get());
  EXPECT_EQ(ImportPkcs8(truncated).status().reason(), Reason::kDataInvalid);
  AttributeSet as_rsa = p.generated.private_key.attrs;
  as_rsa.SetUlong(CKA_KEY_TYPE, CKK_RSA);
  EXPECT_EQ(LoadKey(as_rsa, &p.generated.private_key.material).status().reason(), Reason::kKeyTypeInconsistent);
  EXPECT_EQ(LoadKey(p.generated.private_key.attrs, nullptr).status().reason(), Reason::kTemplateIncomplete);
}

TEST(KeysTest, PrivateComponents) {
  TestPair p = GenCurve("P-256");
  auto d = PrivateComponent(*p.priv, CKA_VALUE);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->size(), 32u);
  AttributeSet t;
  t.SetUlong(CKA_CLASS, CKO_PRIVATE_KEY);
  t.SetUlong(CKA_KEY_TYPE, CKK_EC);
  t.Set(CKA_EC_PARAMS, EcParamsFor("P-256"));
  t.Set(CKA_VALUE, *d);
  auto imported = ImportKey(t);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(HexEncode(*imported->attrs.GetBytes(CKA_PUBLIC_KEY_INFO)),
            HexEncode(*p.generated.public_key.attrs.GetBytes(CKA_PUBLIC_KEY_INFO)));
  EXPECT_EQ(PrivateComponent(*p.priv, CKA_PRIVATE_EXPONENT).status().reason(), Reason::kAttributeTypeInvalid);
  EXPECT_EQ(PrivateComponent(*p.pub, CKA_VALUE).status().reason(), Reason::kAttributeTypeInvalid);
  TestPair ed = GenCurve("Ed448");
  auto raw = PrivateComponent(*ed.priv, CKA_VALUE);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->size(), 57u);
}

TEST(KeysTest, SecretKeys) {
  for (uint64_t len : {16, 24, 32}) {
    AttributeSet t;
    t.SetUlong(CKA_VALUE_LEN, len);
    auto k = GenerateKey({CKM_AES_KEY_GEN, {}}, t);
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    EXPECT_EQ(k->material.size(), len);
    EXPECT_EQ(k->attrs.GetUlong(CKA_KEY_TYPE), uint64_t{CKK_AES});
    EXPECT_TRUE(LoadKey(k->attrs, &k->material).ok());
  }
  AttributeSet bad;
  bad.SetUlong(CKA_VALUE_LEN, 20);
  EXPECT_EQ(GenerateKey({CKM_AES_KEY_GEN, {}}, bad).status().reason(), Reason::kAttributeValueInvalid);
  EXPECT_EQ(GenerateKey({CKM_AES_KEY_GEN, {}}, AttributeSet()).status().reason(), Reason::kTemplateIncomplete);
  auto g = GenerateKey({CKM_GENERIC_SECRET_KEY_GEN, {}}, bad);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->attrs.GetUlong(CKA_KEY_TYPE), uint64_t{CKK_GENERIC_SECRET});
  AttributeSet imp;
  imp.SetUlong(CKA_CLASS, CKO_SECRET_KEY);
  imp.SetUlong(CKA_KEY_TYPE, CKK_AES);
  imp.Set(CKA_VALUE, Bytes(17, 1));
  EXPECT_EQ(ImportKey(imp).status().reason(), Reason::kKeySizeRange);
  imp.Set(CKA_VALUE, Bytes(16, 1));
  auto ok = ImportKey(imp);
  ASSERT_TRUE(ok.ok());
  EXPECT_FALSE(ok->attrs.Has(CKA_VALUE));
  EXPECT_EQ(ok->attrs.GetUlong(CKA_VALUE_LEN), 16u);
}

}  // namespace
}  // namespace certvault::engine
