// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include <openssl/rsa.h>

#include "src/engine/test_util.h"

namespace certvault::engine {
namespace {

using testing::GenCurve;
using testing::GenRsa;
using testing::RunOp;
using testing::SpkiOf;
using testing::TestPair;
using testing::VerifyOp;

const TestPair& Rsa2048() {
  static const TestPair* pair = new TestPair(GenRsa(2048));
  return *pair;
}

Bytes Msg() { return ToBytes("certvault signs this message"); }

Bytes Sha256(std::span<const uint8_t> data) {
  Bytes out(32);
  unsigned len = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr), 1);
  return out;
}

// OpenSslVerify: plain OpenSSL verification with the key from CKA_PUBLIC_KEY_INFO.
bool OpenSslVerify(const TestPair& p, const EVP_MD* md, std::span<const uint8_t> data, std::span<const uint8_t> sig,
                   bool pss = false) {
  auto pkey = SpkiOf(p.generated.public_key.attrs);
  if (pkey == nullptr) return false;
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, pkey.get()) != 1) return false;
  if (pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
              EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1)) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), data.data(), data.size()) == 1;
}

Bytes RawToDer(std::span<const uint8_t> raw) {
  int half = static_cast<int>(raw.size() / 2);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(raw.data(), half, nullptr), BN_bin2bn(raw.data() + half, half, nullptr));
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  Bytes out(der, der + len);
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

void ExpectTamperFails(const Mechanism& mech, std::shared_ptr<const ReadyKey> pub, std::span<const uint8_t> data,
                       const SecureVector& sig) {
  for (size_t i : {size_t{0}, sig.size() / 2, sig.size() - 1}) {
    SecureVector bad = sig;
    bad[i] ^= 0x01;
    Status st = VerifyOp(mech, pub, data, bad);
    EXPECT_EQ(st.reason(), Reason::kSignatureInvalid) << "byte " << i << ": " << st.ToString();
  }
  EXPECT_EQ(VerifyOp(mech, pub, data, std::span<const uint8_t>(sig.data(), sig.size() - 1)).reason(),
            Reason::kSignatureLenRange);
  Bytes other = Bytes(data.begin(), data.end());
  other.push_back('!');
  if (data.size() != 32) {  // raw PSS would fail the length check instead
    EXPECT_FALSE(VerifyOp(mech, pub, other, sig).ok());
  }
}

TEST(RsaSignTest, GeneratedKeyAttributes) {
  const TestPair& p = Rsa2048();
  ASSERT_NE(p.priv, nullptr);
  EXPECT_EQ(p.priv->key_bits, 2048u);
  EXPECT_EQ(p.generated.public_key.attrs.GetUlong(CKA_MODULUS_BITS), 2048u);
  EXPECT_EQ(p.generated.public_key.attrs.GetBytes(CKA_MODULUS)->size(), 256u);
  EXPECT_TRUE(p.generated.private_key.attrs.Has(CKA_PUBLIC_KEY_INFO));
  EXPECT_TRUE(p.generated.private_key.attrs.Has(CKA_MODULUS));
  EXPECT_FALSE(p.generated.private_key.attrs.Has(CKA_PRIVATE_EXPONENT));
}

TEST(RsaSignTest, Sha256RsaPkcsRoundTripAndOpenSsl) {
  const TestPair& p = Rsa2048();
  Mechanism mech{CKM_SHA256_RSA_PKCS, {}};
  auto sig = RunOp(OpKind::kSign, mech, p.priv, Msg());
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_EQ(sig->size(), 256u);
  EXPECT_TRUE(VerifyOp(mech, p.pub, Msg(), *sig).ok());
  EXPECT_TRUE(OpenSslVerify(p, EVP_sha256(), Msg(), *sig));
  ExpectTamperFails(mech, p.pub, Msg(), *sig);
}

TEST(RsaSignTest, MultiPartEqualsSinglePart) {
  const TestPair& p = Rsa2048();
  Mechanism mech{CKM_SHA384_RSA_PKCS, {}};
  auto op = NewOperation(OpKind::kSign, mech, p.priv);
  ASSERT_TRUE(op.ok());
  Bytes m = Msg();
  SecureVector ignored, sig;
  ASSERT_TRUE((*op)->Update(std::span<const uint8_t>(m).first(5), &ignored).ok());
  ASSERT_TRUE((*op)->Update(std::span<const uint8_t>(m).subspan(5), &ignored).ok());
  ASSERT_TRUE((*op)->Final(&sig).ok());
  EXPECT_TRUE(VerifyOp(mech, p.pub, m, sig).ok());  // PKCS#1 v1.5 is deterministic
  auto single = RunOp(OpKind::kSign, mech, p.priv, m);
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(*single, sig);
}

TEST(RsaSignTest, RawPkcsSignsDigestInfo) {
  const TestPair& p = Rsa2048();
  // DigestInfo for SHA-256 (RFC 8017 §9.2 note 1) + digest.
  Bytes di = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
              0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
  Bytes h = Sha256(Msg());
  di.insert(di.end(), h.begin(), h.end());
  auto sig = RunOp(OpKind::kSign, {CKM_RSA_PKCS, {}}, p.priv, di);
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_TRUE(OpenSslVerify(p, EVP_sha256(), Msg(), *sig));
  ExpectTamperFails({CKM_RSA_PKCS, {}}, p.pub, di, *sig);
  auto op = NewOperation(OpKind::kSign, {CKM_RSA_PKCS, {}}, p.priv);
  ASSERT_TRUE(op.ok());
  SecureVector out;
  EXPECT_EQ((*op)->Update(di, &out).reason(), Reason::kFunctionNotSupported);
  EXPECT_EQ(RunOp(OpKind::kSign, {CKM_RSA_PKCS, {}}, p.priv, Bytes(250, 1)).status().reason(),
            Reason::kDataLenRange);
}

TEST(RsaSignTest, PssRawAndHashed) {
  const TestPair& p = Rsa2048();
  RsaPssParams params{CKM_SHA256, CKG_MGF1_SHA256, 32};
  Mechanism hashed{CKM_SHA256_RSA_PKCS_PSS, params};
  auto sig = RunOp(OpKind::kSign, hashed, p.priv, Msg());
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_TRUE(VerifyOp(hashed, p.pub, Msg(), *sig).ok());
  EXPECT_TRUE(OpenSslVerify(p, EVP_sha256(), Msg(), *sig, /*pss=*/true));
  ExpectTamperFails(hashed, p.pub, Msg(), *sig);
  Mechanism raw{CKM_RSA_PKCS_PSS, params};
  EXPECT_TRUE(VerifyOp(raw, p.pub, Sha256(Msg()), *sig).ok());
  auto raw_sig = RunOp(OpKind::kSign, raw, p.priv, Sha256(Msg()));
  ASSERT_TRUE(raw_sig.ok());
  EXPECT_TRUE(OpenSslVerify(p, EVP_sha256(), Msg(), *raw_sig, true));
  EXPECT_EQ(RunOp(OpKind::kSign, raw, p.priv, Bytes(20, 1)).status().reason(), Reason::kDataLenRange);
}

TEST(RsaSignTest, BadPssParams) {
  const TestPair& p = Rsa2048();
  auto reason = [&](Mechanism m) { return NewOperation(OpKind::kSign, m, p.priv).status().reason(); };
  EXPECT_EQ(reason({CKM_SHA256_RSA_PKCS_PSS, {}}), Reason::kMechanismParamInvalid);
  EXPECT_EQ(reason({CKM_SHA256_RSA_PKCS_PSS, RsaPssParams{CKM_SHA384, CKG_MGF1_SHA384, 48}}),
            Reason::kMechanismParamInvalid);
  EXPECT_EQ(reason({CKM_RSA_PKCS_PSS, RsaPssParams{CKM_SHA256, 0x99, 32}}), Reason::kMechanismParamInvalid);
  EXPECT_EQ(reason({CKM_RSA_PKCS_PSS, RsaPssParams{CKM_SHA256, CKG_MGF1_SHA256, 300}}),
            Reason::kMechanismParamInvalid);
  EXPECT_EQ(reason({CKM_SHA256_RSA_PKCS, Bytes{1}}), Reason::kMechanismParamInvalid);
}

TEST(RsaSignTest, WrongKeyTypeAndClass) {
  const TestPair& p = Rsa2048();
  TestPair ec = GenCurve("P-256");
  EXPECT_EQ(NewOperation(OpKind::kSign, {CKM_ECDSA, {}}, p.priv).status().reason(), Reason::kKeyTypeInconsistent);
  EXPECT_EQ(NewOperation(OpKind::kSign, {CKM_SHA256_RSA_PKCS, {}}, ec.priv).status().reason(),
            Reason::kKeyTypeInconsistent);
  EXPECT_EQ(NewOperation(OpKind::kSign, {CKM_EDDSA, {}}, ec.priv).status().reason(), Reason::kKeyTypeInconsistent);
  EXPECT_EQ(NewOperation(OpKind::kSign, {CKM_SHA256_RSA_PKCS, {}}, p.pub).status().reason(),
            Reason::kKeyFunctionNotPermitted);
  EXPECT_EQ(NewOperation(OpKind::kSign, {0x7777, {}}, p.priv).status().reason(), Reason::kMechanismInvalid);
}

class EcdsaTest : public ::testing::TestWithParam<std::pair<const char*, size_t>> {};

TEST_P(EcdsaTest, RoundTripsRawAndHashed) {
  auto [curve, n_len] = GetParam();
  TestPair p = GenCurve(curve);
  ASSERT_NE(p.priv, nullptr);
  EXPECT_EQ(p.generated.public_key.attrs.GetBytes(CKA_EC_POINT)->size(), 2 * n_len + 1 + (n_len > 60 ? 3 : 2));
  Mechanism hashed{CKM_ECDSA_SHA256, {}};
  auto sig = RunOp(OpKind::kSign, hashed, p.priv, Msg());
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_EQ(sig->size(), 2 * n_len);
  EXPECT_TRUE(VerifyOp(hashed, p.pub, Msg(), *sig).ok());
  EXPECT_TRUE(OpenSslVerify(p, EVP_sha256(), Msg(), RawToDer(*sig)));
  ExpectTamperFails(hashed, p.pub, Msg(), *sig);
  Mechanism raw{CKM_ECDSA, {}};
  Bytes h = Sha256(Msg());
  EXPECT_TRUE(VerifyOp(raw, p.pub, h, *sig).ok());
  auto raw_sig = RunOp(OpKind::kSign, raw, p.priv, h);
  ASSERT_TRUE(raw_sig.ok());
  EXPECT_TRUE(VerifyOp(hashed, p.pub, Msg(), *raw_sig).ok());
  ExpectTamperFails(raw, p.pub, h, *raw_sig);
}

INSTANTIATE_TEST_SUITE_P(Curves, EcdsaTest,
                         ::testing::Values(std::make_pair("P-256", size_t{32}), std::make_pair("P-384", size_t{48}),
                                           std::make_pair("P-521", size_t{66})));

class EddsaTest : public ::testing::TestWithParam<std::pair<const char*, size_t>> {};

TEST_P(EddsaTest, RoundTrip) {
  auto [curve, sig_len] = GetParam();
  TestPair p = GenCurve(curve);
  ASSERT_NE(p.priv, nullptr);
  Mechanism mech{CKM_EDDSA, {}};
  auto sig = RunOp(OpKind::kSign, mech, p.priv, Msg());
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_EQ(sig->size(), sig_len);
  EXPECT_TRUE(VerifyOp(mech, p.pub, Msg(), *sig).ok());
  EXPECT_TRUE(OpenSslVerify(p, nullptr, Msg(), *sig));
  ExpectTamperFails(mech, p.pub, Msg(), *sig);
  EXPECT_TRUE(VerifyOp({CKM_EDDSA, EddsaParams{false, {}}}, p.pub, Msg(), *sig).ok());
  EXPECT_EQ(NewOperation(OpKind::kSign, {CKM_EDDSA, EddsaParams{true, {}}}, p.priv).status().reason(),
            Reason::kMechanismParamInvalid);
  auto op = NewOperation(OpKind::kSign, mech, p.priv);
  ASSERT_TRUE(op.ok());
  SecureVector out;
  EXPECT_EQ((*op)->Update(Msg(), &out).reason(), Reason::kFunctionNotSupported);
}

INSTANTIATE_TEST_SUITE_P(Curves, EddsaTest,
                         ::testing::Values(std::make_pair("Ed25519", size_t{64}), std::make_pair("Ed448", size_t{114})));

}  // namespace
}  // namespace certvault::engine
