// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/crypto/x509_build.h"

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <openssl/x509_vfy.h>

#include <string>

#include "src/crypto/ossl_error.h"

namespace certvault::x509 {
namespace {

struct TestKey {
  ossl::UniquePtr<EVP_PKEY> key;
  SignatureAlgorithm alg;
  const char* md;  // nullptr for EdDSA
};

TestKey MakeKey(const std::string& kind) {
  TestKey k;
  if (kind == "rsa") {
    k.key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  } else if (kind == "p256" || kind == "p384") {
    k.key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", kind == "p256" ? "P-256" : "P-384"));
  } else {
    k.key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, kind == "ed25519" ? "ED25519" : "ED448"));
  }
  EXPECT_NE(k.key, nullptr);
  auto alg = DefaultSignatureAlgorithm(k.key.get());
  EXPECT_TRUE(alg.ok());
  k.alg = *alg;
  k.md = kind == "rsa" || kind == "p256" ? "SHA256" : kind == "p384" ? "SHA384" : nullptr;
  return k;
}

Bytes Spki(EVP_PKEY* key) {
  int len = i2d_PUBKEY(key, nullptr);
  Bytes out(static_cast<size_t>(len));
  uint8_t* p = out.data();
  i2d_PUBKEY(key, &p);
  return out;
}

// DerToRaw: what a PKCS#11 token returns for CKM_ECDSA_SHA*.
Bytes DerToRaw(const Bytes& der, size_t half) {
  const uint8_t* p = der.data();
  ossl::UniquePtr<ECDSA_SIG> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  Bytes raw(2 * half);
  BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), raw.data(), static_cast<int>(half));
  BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), raw.data() + half, static_cast<int>(half));
  return raw;
}

// SoftwareSigner: plays the vault: signs the TBS with a software key and
// returns the PKCS#11 signature format. `pss`: RSASSA-PSS SHA-256 /
// MGF1-SHA-256 / 32-byte salt, what CKM_SHA256_RSA_PKCS_PSS returns.
Signer SoftwareSigner(const TestKey& k, bool flip_bit = false, bool pss = false) {
  return [&k, flip_bit, pss](std::span<const uint8_t> tbs) -> Result<Bytes> {
    ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
    size_t len = 0;
    if (EVP_DigestSignInit_ex(ctx.get(), &pctx, pss ? "SHA256" : k.md, nullptr, nullptr, k.key.get(), nullptr) != 1 ||
        (pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                 EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1)) ||
        EVP_DigestSign(ctx.get(), nullptr, &len, tbs.data(), tbs.size()) != 1) {
      return ossl::OpenSslError("EVP_DigestSign");
    }
    Bytes sig(len);
    if (EVP_DigestSign(ctx.get(), sig.data(), &len, tbs.data(), tbs.size()) != 1) {
      return ossl::OpenSslError("EVP_DigestSign");
    }
    sig.resize(len);
    if (EVP_PKEY_is_a(k.key.get(), "EC")) sig = DerToRaw(sig, static_cast<size_t>((EVP_PKEY_get_bits(k.key.get()) + 7) / 8));
    if (flip_bit) sig[sig.size() / 2] ^= 0x01;
    return sig;
  };
}

ossl::UniquePtr<X509> ParseCertDer(const Bytes& der) {
  const uint8_t* p = der.data();
  return ossl::UniquePtr<X509>(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
}

// ChainVerifies: the in-process equivalent of `openssl verify -CAfile ca ca`.
bool ChainVerifies(X509* leaf, X509* root) {
  ossl::UniquePtr<X509_STORE> store(X509_STORE_new());
  ossl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (X509_STORE_add_cert(store.get(), root) != 1) return false;
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr) != 1) return false;
  bool ok = X509_verify_cert(ctx.get()) == 1;
  ossl::ClearErrors();
  return ok;
}

CertSpec SelfSignedSpec(const TestKey& k) {
  CertSpec spec;
  spec.public_key_info = Spki(k.key.get());
  spec.subject = "/CN=certvault test/O=Example\\/Org";
  spec.sans = {{SanEntry::Kind::kDns, "www.example.com"}, {SanEntry::Kind::kIp, "192.0.2.1"}};
  spec.days = 30;
  spec.is_ca = true;
  spec.algorithm = k.alg;
  return spec;
}

class X509BuildTest : public ::testing::TestWithParam<std::string> {};

TEST_P(X509BuildTest, SelfSignedCertificateVerifies) {
  TestKey k = MakeKey(GetParam());
  auto der = BuildCertificate(SelfSignedSpec(k), SoftwareSigner(k));
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  auto cert = ParseCertDer(*der);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_verify(cert.get(), k.key.get()), 1);
  EXPECT_TRUE(ChainVerifies(cert.get(), cert.get()));
  EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert.get());
  EXPECT_EQ(ASN1_STRING_length(serial), 20);
  EXPECT_EQ(ASN1_STRING_get0_data(serial)[0] & 0x80, 0);
  EXPECT_NE(X509_get_ext_by_NID(cert.get(), NID_subject_alt_name, -1), -1);
  EXPECT_NE(X509_get_ext_by_NID(cert.get(), NID_authority_key_identifier, -1), -1);
  char cn[64] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_organizationName, cn, sizeof(cn));
  EXPECT_STREQ(cn, "Example/Org");
}

TEST_P(X509BuildTest, CsrVerifies) {
  TestKey k = MakeKey(GetParam());
  CsrSpec spec{Spki(k.key.get()), "/CN=csr.example.com", {{SanEntry::Kind::kDns, "csr.example.com"}}, k.alg};
  auto der = BuildCsr(spec, SoftwareSigner(k));
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  const uint8_t* p = der->data();
  ossl::UniquePtr<X509_REQ> req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der->size())));
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(X509_REQ_verify(req.get(), k.key.get()), 1);
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req.get());
  EXPECT_EQ(sk_X509_EXTENSION_num(exts), 1);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}

TEST_P(X509BuildTest, CorruptSignatureIsNeverReturned) {
  TestKey k = MakeKey(GetParam());
  auto cert = BuildCertificate(SelfSignedSpec(k), SoftwareSigner(k, /*flip_bit=*/true));
  ASSERT_FALSE(cert.ok());
  EXPECT_EQ(cert.status().reason(), Reason::kSignatureInvalid);
  CsrSpec spec{Spki(k.key.get()), "/CN=x", {}, k.alg};
  auto csr = BuildCsr(spec, SoftwareSigner(k, /*flip_bit=*/true));
  ASSERT_FALSE(csr.ok());
  EXPECT_EQ(csr.status().reason(), Reason::kSignatureInvalid);
}

INSTANTIATE_TEST_SUITE_P(Keys, X509BuildTest, ::testing::Values("p256", "p384", "rsa", "ed25519", "ed448"));

TEST(X509Build, IssuedCertificateChainsToCa) {
  TestKey ca = MakeKey("p256");
  auto ca_der = BuildCertificate(SelfSignedSpec(ca), SoftwareSigner(ca));
  ASSERT_TRUE(ca_der.ok());
  TestKey leaf = MakeKey("ed25519");
  CertSpec spec;
  spec.public_key_info = Spki(leaf.key.get());
  spec.subject = "/CN=leaf";
  spec.extended_key_usage = {"serverAuth", "clientAuth"};
  spec.issuer_cert_der = *ca_der;
  spec.algorithm = ca.alg;
  auto leaf_der = BuildCertificate(spec, SoftwareSigner(ca));
  ASSERT_TRUE(leaf_der.ok()) << leaf_der.status().ToString();
  auto ca_cert = ParseCertDer(*ca_der);
  auto leaf_cert = ParseCertDer(*leaf_der);
  EXPECT_TRUE(ChainVerifies(leaf_cert.get(), ca_cert.get()));
  EXPECT_FALSE(ChainVerifies(ca_cert.get(), leaf_cert.get()));
}

TEST(X509Build, SignerErrorIsPropagated) {
  TestKey k = MakeKey("p256");
  Signer failing = [](std::span<const uint8_t>) -> Result<Bytes> { return Status(Reason::kPinIncorrect, "no"); };
  auto cert = BuildCertificate(SelfSignedSpec(k), failing);
  ASSERT_FALSE(cert.ok());
  EXPECT_EQ(cert.status().reason(), Reason::kPinIncorrect);
}

TEST(X509Build, TruncatedSignatureRejected) {
  TestKey k = MakeKey("ed25519");
  Signer inner = SoftwareSigner(k);
  Signer truncating = [&inner](std::span<const uint8_t> tbs) -> Result<Bytes> {
    auto sig = inner(tbs);
    if (sig.ok()) sig->pop_back();
    return sig;
  };
  auto cert = BuildCertificate(SelfSignedSpec(k), truncating);
  ASSERT_FALSE(cert.ok());
  EXPECT_EQ(cert.status().reason(), Reason::kSignatureInvalid);
}

TEST(X509Build, AlgorithmMustMatchKey) {
  TestKey k = MakeKey("p256");
  CertSpec spec = SelfSignedSpec(k);
  spec.algorithm = SignatureAlgorithm::kRsaPkcs1Sha256;
  auto cert = BuildCertificate(spec, SoftwareSigner(k));
  ASSERT_FALSE(cert.ok());
  EXPECT_EQ(cert.status().reason(), Reason::kKeyTypeInconsistent);
}

TEST(X509Build, RsaPssCertificateVerifies) {
  TestKey k = MakeKey("rsa");
  CertSpec spec = SelfSignedSpec(k);
  spec.algorithm = SignatureAlgorithm::kRsaPssSha256;
  auto der = BuildCertificate(spec, SoftwareSigner(k, false, true));
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  ossl::UniquePtr<X509> cert = ParseCertDer(*der);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_rsassaPss);
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(cert.get())), 1);
  EXPECT_TRUE(ChainVerifies(cert.get(), cert.get()));
  // The AlgorithmIdentifier is the RFC 4055 one, in both places.
  const X509_ALGOR* outer = nullptr;
  X509_get0_signature(nullptr, &outer, cert.get());
  unsigned char* enc = nullptr;
  int len = i2d_X509_ALGOR(outer, &enc);
  std::span<const uint8_t> want = RsaPssSha256AlgorithmIdentifier();
  EXPECT_EQ(Bytes(enc, enc + len), Bytes(want.begin(), want.end()));
  OPENSSL_free(enc);
  // A PKCS#1 v1.5 signature under the PSS identifier does not verify.
  EXPECT_FALSE(BuildCertificate(spec, SoftwareSigner(k)).ok());
  // PSS is for RSA keys only.
  TestKey ec = MakeKey("p256");
  CertSpec ec_spec = SelfSignedSpec(ec);
  ec_spec.algorithm = SignatureAlgorithm::kRsaPssSha256;
  EXPECT_EQ(BuildCertificate(ec_spec, SoftwareSigner(ec)).status().reason(), Reason::kKeyTypeInconsistent);
}

TEST(X509Build, BadSpkiRejected) {
  TestKey k = MakeKey("p256");
  CertSpec spec = SelfSignedSpec(k);
  spec.public_key_info.pop_back();
  EXPECT_FALSE(BuildCertificate(spec, SoftwareSigner(k)).ok());
  spec.public_key_info = Spki(k.key.get());
  spec.public_key_info.push_back(0);
  EXPECT_FALSE(BuildCertificate(spec, SoftwareSigner(k)).ok());
  spec.public_key_info = Spki(k.key.get());
  spec.days = 0;
  EXPECT_FALSE(BuildCertificate(spec, SoftwareSigner(k)).ok());
}

TEST(X509Build, ParseSubject) {
  EXPECT_TRUE(ParseSubject("/CN=a/O=b/C=DE").ok());
  EXPECT_TRUE(ParseSubject("/CN=a\\/b").ok());
  EXPECT_FALSE(ParseSubject("CN=a").ok());
  EXPECT_FALSE(ParseSubject("/CN=").ok());
  EXPECT_FALSE(ParseSubject("/=a").ok());
  EXPECT_FALSE(ParseSubject("/CN=a/").ok());
  EXPECT_FALSE(ParseSubject("/NOPE=a").ok());
  EXPECT_FALSE(ParseSubject("/").ok());
  EXPECT_FALSE(ParseSubject("/C=DEU").ok());  // countryName is exactly 2 letters
}

TEST(X509Build, ParseSan) {
  auto dns = ParseSan("DNS:example.com");
  ASSERT_TRUE(dns.ok());
  EXPECT_EQ(dns->kind, SanEntry::Kind::kDns);
  EXPECT_EQ(dns->value, "example.com");
  EXPECT_TRUE(ParseSan("IP:2001:db8::1").ok());
  EXPECT_TRUE(ParseSan("email:a@example.com").ok());
  EXPECT_TRUE(ParseSan("URI:https://example.com/x").ok());
  EXPECT_FALSE(ParseSan("IP:300.1.1.1").ok());
  EXPECT_FALSE(ParseSan("DNS:").ok());
  EXPECT_FALSE(ParseSan("FOO:bar").ok());
  EXPECT_FALSE(ParseSan("example.com").ok());
}

TEST(X509Build, RawEcdsaToDer) {
  Bytes raw(64, 0x01);
  auto der = RawEcdsaToDer(raw);
  ASSERT_TRUE(der.ok());
  EXPECT_EQ((*der)[0], 0x30);
  EXPECT_FALSE(RawEcdsaToDer(Bytes(63, 1)).ok());
  EXPECT_FALSE(RawEcdsaToDer(Bytes()).ok());
  EXPECT_FALSE(RawEcdsaToDer(Bytes(200, 1)).ok());
}

TEST(X509Build, PemEncode) {
  auto pem = PemEncode("CERTIFICATE", Bytes{1, 2, 3});
  ASSERT_TRUE(pem.ok());
  EXPECT_EQ(pem->rfind("-----BEGIN CERTIFICATE-----\n", 0), 0u);
  EXPECT_NE(pem->find("AQID"), std::string::npos);
}

}  // namespace
}  // namespace certvault::x509
