// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/issuance/csr.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca/issuance/lint.h"
#include "ca/issuance/spki.h"

namespace certvault::ca {
namespace {

Bytes MakeCsr(EVP_PKEY* key, const char* cn, const char* san, const EVP_MD* md = EVP_sha256()) {
  X509_REQ* req = X509_REQ_new();
  X509_NAME* name = X509_REQ_get_subject_name(req);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_REQ_set_pubkey(req, key);
  if (san != nullptr) {
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    sk_X509_EXTENSION_push(exts, X509V3_EXT_nconf_nid(nullptr, nullptr, NID_subject_alt_name, san));
    X509_REQ_add_extensions(req, exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  X509_REQ_sign(req, key, md);
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req, &der);
  Bytes out(der, der + len);
  OPENSSL_free(der);
  X509_REQ_free(req);
  return out;
}

class CsrTest : public ::testing::Test {
 protected:
  void SetUp() override { key_.reset(EVP_EC_gen("P-256")); }
  ossl::UniquePtr<EVP_PKEY> key_;
};

TEST_F(CsrTest, ParsesDerWithSans) {
  Bytes der = MakeCsr(key_.get(), "dev1", "DNS:a.example.com,IP:192.0.2.7,email:x@example.com");
  auto csr = ParseCsr(der, 16384);
  ASSERT_TRUE(csr.ok()) << csr.status().ToString();
  EXPECT_EQ(csr->content.key_algorithm, "ec-p256");
  ASSERT_EQ(csr->content.subject.size(), 1u);
  EXPECT_EQ(csr->content.subject[0].field, "CN");
  EXPECT_EQ(csr->content.subject[0].value, "dev1");
  ASSERT_EQ(csr->content.sans.size(), 3u);
  EXPECT_EQ(csr->content.sans[1].value, "192.0.2.7");
  EXPECT_EQ(EVP_PKEY_eq(csr->public_key.get(), key_.get()), 1);
}

// A certificate's SANs read as a CSR's, for the re-enrollment check
// (RFC 7030 §4.2.2): the same set matches whatever the order and case.
TEST_F(CsrTest, CertificateSansCompareWithACsrs) {
  ossl::UniquePtr<X509> cert(X509_new());
  X509_set_version(cert.get(), 2);
  X509_set_pubkey(cert.get(), key_.get());
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("dev1"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &v3, NID_subject_alt_name, "IP:192.0.2.7,DNS:A.example.com");
  ASSERT_NE(ext, nullptr);
  X509_add_ext(cert.get(), ext, -1);
  X509_EXTENSION_free(ext);
  ASSERT_GT(X509_sign(cert.get(), key_.get(), EVP_sha256()), 0);
  unsigned char* der = nullptr;
  int len = i2d_X509(cert.get(), &der);
  ASSERT_GT(len, 0);
  Bytes cert_der(der, der + len);
  OPENSSL_free(der);
  auto sans = CertificateSans(cert_der);
  ASSERT_TRUE(sans.ok()) << sans.status().ToString();
  auto same = ParseCsr(MakeCsr(key_.get(), "dev1", "DNS:a.example.com,IP:192.0.2.7"), 16384);
  auto other = ParseCsr(MakeCsr(key_.get(), "dev1", "DNS:a.example.com,DNS:b.example.com,IP:192.0.2.7"), 16384);
  auto fewer = ParseCsr(MakeCsr(key_.get(), "dev1", "DNS:a.example.com"), 16384);
  ASSERT_TRUE(same.ok() && other.ok() && fewer.ok());
  EXPECT_TRUE(SameSans(same->content.sans, *sans));
  EXPECT_FALSE(SameSans(other->content.sans, *sans));
  EXPECT_FALSE(SameSans(fewer->content.sans, *sans));
  EXPECT_FALSE(CertificateSans(Bytes(cert_der.begin(), cert_der.end() - 1)).ok());
}

TEST_F(CsrTest, ParsesPemAndRsa) {
  ossl::UniquePtr<EVP_PKEY> rsa(EVP_RSA_gen(2048));
  Bytes der = MakeCsr(rsa.get(), "rsa", nullptr);
  auto pem = x509::PemEncode("CERTIFICATE REQUEST", der);
  ASSERT_TRUE(pem.ok());
  auto csr = ParseCsr(AsSpan(*pem), 16384);
  ASSERT_TRUE(csr.ok()) << csr.status().ToString();
  EXPECT_EQ(csr->content.key_algorithm, "rsa-2048");
}

TEST_F(CsrTest, EverySignatureBitFlipIsRefused) {
  Bytes der = MakeCsr(key_.get(), "dev1", nullptr);
  for (size_t i = der.size() - 8; i < der.size(); ++i) {
    Bytes bad = der;
    bad[i] ^= 0x01;
    auto csr = ParseCsr(bad, 16384);
    EXPECT_FALSE(csr.ok()) << "byte " << i;
  }
  Bytes tampered = der;
  tampered[40] ^= 0x20;  // inside the subject: the signature no longer matches
  EXPECT_FALSE(ParseCsr(tampered, 16384).ok());
}

TEST_F(CsrTest, TruncationTrailingBytesAndSizeLimit) {
  Bytes der = MakeCsr(key_.get(), "dev1", nullptr);
  for (size_t n = 0; n < der.size(); n += 7) {
    EXPECT_FALSE(ParseCsr(std::span<const uint8_t>(der.data(), n), 16384).ok()) << n;
  }
  Bytes trailing = der;
  trailing.push_back(0);
  EXPECT_EQ(ParseCsr(trailing, 16384).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCsr(der, 64).status().code(), StatusCode::kResourceExhausted);
}

TEST_F(CsrTest, SpkiIsCopiedIntoCertificateUnchanged) {
  Bytes der = MakeCsr(key_.get(), "dev1", nullptr);
  auto csr = ParseCsr(der, 16384);
  ASSERT_TRUE(csr.ok());
  ossl::UniquePtr<X509> cert(X509_new());
  ASSERT_TRUE(SetCertPublicKey(cert.get(), csr->spki).ok());
  unsigned char* out = nullptr;
  int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &out);
  ASSERT_GT(len, 0);
  EXPECT_EQ(Bytes(out, out + len), csr->spki);
  OPENSSL_free(out);
}

TEST_F(CsrTest, OffCurvePointIsRefused) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key_.get(), &der);
  Bytes spki(der, der + len);
  OPENSSL_free(der);
  auto good = PublicKeyFromSpki(spki);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(EVP_PKEY_eq(good->get(), key_.get()), 1);
  spki.back() ^= 0x01;  // Y no longer matches X
  EXPECT_EQ(PublicKeyFromSpki(spki).status().code(), StatusCode::kInvalidArgument);
}

TEST(Lint, DnsNames) {
  EXPECT_TRUE(IsDnsName("a.example.com"));
  EXPECT_TRUE(IsDnsName("*.devices.example.com"));
  EXPECT_TRUE(IsDnsName("x-1.y"));
  EXPECT_FALSE(IsDnsName(""));
  EXPECT_FALSE(IsDnsName("a..b"));
  EXPECT_FALSE(IsDnsName("-a.b"));
  EXPECT_FALSE(IsDnsName("a b.c"));
  EXPECT_FALSE(IsDnsName("a.*.c"));
  EXPECT_FALSE(IsDnsName(std::string(64, 'a') + ".com"));
}

}  // namespace
}  // namespace certvault::ca
