// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/est/est_codec.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>

#include "src/crypto/libctx.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::ca::est {
namespace {

std::span<const uint8_t> Span(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

TEST(EstPathTest, OperationsAndLabels) {
  auto p = ParseEstPath("/.well-known/est/cacerts");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->op, Operation::kCaCerts);
  EXPECT_EQ(p->label, "");
  p = ParseEstPath("/.well-known/est/device/simpleenroll");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->op, Operation::kSimpleEnroll);
  EXPECT_EQ(p->label, "device");
  EXPECT_TRUE(IsPost(Operation::kSimpleReenroll));
  EXPECT_FALSE(IsPost(Operation::kCsrAttrs));
}

TEST(EstPathTest, RefusesOthers) {
  for (const char* bad : {"/", "/.well-known/est/", "/.well-known/est/nosuch", "/.well-known/est/a/b/cacerts",
                          "/.well-known/est/../cacerts", "/.well-known/est//cacerts", "/.well-known/est/a b/cacerts",
                          "/.well-known/est/cacerts/", "/.well-known/estcacerts"}) {
    EXPECT_EQ(ParseEstPath(bad).status().code(), StatusCode::kNotFound) << bad;
  }
  EXPECT_FALSE(ParseEstPath("/.well-known/est/" + std::string(65, 'a') + "/cacerts").ok());
}

TEST(EstBase64Test, DecodesWithLineBreaks) {
  auto d = DecodeBase64Body(Span("aGVs\r\nbG8g\nd29y bGQ="), 100);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(std::string(d->begin(), d->end()), "hello world");
  d = DecodeBase64Body(Span("YQ=="), 100);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(std::string(d->begin(), d->end()), "a");
}

TEST(EstBase64Test, RefusesMalformed) {
  for (const char* bad : {"", "\r\n", "YQ", "YQ=", "YQ===", "Y===", "YQ==YQ==", "a!bc", "YR==", "YWJ=", "-_AA"}) {
    auto d = DecodeBase64Body(Span(bad), 100);
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(EstBase64Test, BoundsTheDecodedSize) {
  std::string big(4000, 'A');
  EXPECT_EQ(DecodeBase64Body(Span(big), 100).status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(DecodeBase64Body(Span(big), 3000).ok());
}

TEST(EstBase64Test, RoundTrip) {
  Bytes data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  std::string b64 = EncodeBase64(data);
  EXPECT_EQ(b64.find_first_of("\r\n"), std::string::npos);  // RFC 8951 §3.2, RFC 4648 §3.1
  auto d = DecodeBase64Body(Span(b64), 2000);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, data);
}

TEST(EstBasicAuthTest, Parses) {
  std::string id;
  SecretBytes pw;
  ASSERT_TRUE(ParseBasicAuth("basic Y2FmZTpzZWNyZXQ6eA==", id, pw));  // "cafe:secret:x"
  EXPECT_EQ(id, "cafe");
  EXPECT_EQ(pw.AsStringView(SecretAccess::Get()), "secret:x");
  for (const char* bad : {"", "Basic", "Basic ", "Bearer Y2FmZTpzZWNyZXQ=", "Basic OnNlY3JldA==" /* ":secret" */,
                          "Basic Y2FmZTo=" /* "cafe:" */, "Basic Y2FmZQ==" /* "cafe" */, "Basic !!!"}) {
    EXPECT_FALSE(ParseBasicAuth(bad, id, pw)) << bad;
  }
}

ossl::UniquePtr<X509> SelfSigned(const char* cn) {
  ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(crypto::LibCtx(), nullptr, "EC", "P-256"));
  ossl::UniquePtr<X509> cert(X509_new_ex(crypto::LibCtx(), nullptr));
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_sign(cert.get(), key.get(), EVP_sha256());
  return cert;
}

TEST(EstCertsOnlyTest, HoldsTheCertificates) {
  auto a = SelfSigned("a");
  auto b = SelfSigned("b");
  auto der = EncodeCertsOnly({a.get(), b.get()});
  ASSERT_TRUE(der.ok());
  const unsigned char* p = der->data();
  PKCS7* p7 = d2i_PKCS7(nullptr, &p, static_cast<long>(der->size()));  // NOLINT(runtime/int)
  ASSERT_NE(p7, nullptr);
  ASSERT_TRUE(PKCS7_type_is_signed(p7));
  STACK_OF(X509)* certs = p7->d.sign->cert;
  ASSERT_EQ(sk_X509_num(certs), 2);
  EXPECT_EQ(X509_cmp(sk_X509_value(certs, 0), a.get()), 0);
  EXPECT_EQ(sk_PKCS7_SIGNER_INFO_num(p7->d.sign->signer_info), 0);  // RFC 5272 §4.1: no signers
  PKCS7_free(p7);
}

TEST(EstCertsOnlyTest, FromDerIsByteForByteWhatOpenSslEncodes) {
  auto a = SelfSigned("a");
  auto b = SelfSigned("b");
  std::vector<Bytes> ders;
  for (X509* c : {a.get(), b.get()}) {
    unsigned char* buf = nullptr;
    int n = i2d_X509(c, &buf);
    ASSERT_GT(n, 0);
    ders.emplace_back(buf, buf + n);
    OPENSSL_free(buf);
  }
  auto one = EncodeCertsOnly({a.get()});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(HexEncode(EncodeCertsOnlyDer(std::span<const Bytes>(ders.data(), 1))), HexEncode(*one));
  auto two = EncodeCertsOnly({a.get(), b.get()});
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(HexEncode(EncodeCertsOnlyDer(ders)), HexEncode(*two));
}

TEST(EstCsrAttrsTest, EcOnlyProfileNamesItsCurves) {
  Profile p;
  p.key_algorithms = {"ec-p256", "ec-p384"};
  auto der = EncodeCsrAttrs(p);
  ASSERT_TRUE(der.ok());
  ASSERT_FALSE(der->empty());
  const unsigned char* in = der->data();
  ASN1_TYPE* t = d2i_ASN1_TYPE(nullptr, &in, static_cast<long>(der->size()));  // NOLINT(runtime/int)
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(ASN1_TYPE_get(t), V_ASN1_SEQUENCE);
  EXPECT_EQ(in, der->data() + der->size());
  ASN1_TYPE_free(t);
  const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
  EXPECT_NE(std::search(der->begin(), der->end(), std::begin(p256), std::end(p256)), der->end());
}

TEST(EstCsrAttrsTest, MixedProfileSaysNothing) {
  Profile p;
  p.key_algorithms = {"ec-p256", "rsa-2048"};
  auto der = EncodeCsrAttrs(p);
  ASSERT_TRUE(der.ok());
  EXPECT_TRUE(der->empty());
}

}  // namespace
}  // namespace certvault::ca::est
