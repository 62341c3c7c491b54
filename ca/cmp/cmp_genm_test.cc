// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/cmp/cmp_genm.h"

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "src/crypto/ossl_ptr.h"

namespace certvault::ca::cmp {
namespace {

// SelfSigned: a throwaway P-256 certificate for /CN=<cn> (DER).
Bytes SelfSigned(const char* cn) {
  ossl::UniquePtr<EVP_PKEY> key(EVP_EC_gen("P-256"));
  ossl::UniquePtr<X509> x(X509_new());
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(x.get(), name);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600);
  X509_set_pubkey(x.get(), key.get());
  EXPECT_GT(X509_sign(x.get(), key.get(), EVP_sha256()), 0);
  unsigned char* buf = nullptr;
  int len = i2d_X509(x.get(), &buf);
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

Bytes Crl() {
  ossl::UniquePtr<EVP_PKEY> key(EVP_EC_gen("P-256"));
  ossl::UniquePtr<X509_CRL> crl(X509_CRL_new());
  X509_CRL_set_version(crl.get(), 1);
  ossl::UniquePtr<X509_NAME> name(X509_NAME_new());
  X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("CA"), -1, -1, 0);
  X509_CRL_set_issuer_name(crl.get(), name.get());
  ossl::UniquePtr<ASN1_TIME> now(ASN1_TIME_set(nullptr, 1700000000));
  X509_CRL_set1_lastUpdate(crl.get(), now.get());
  EXPECT_GT(X509_CRL_sign(crl.get(), key.get(), EVP_sha256()), 0);
  unsigned char* buf = nullptr;
  int len = i2d_X509_CRL(crl.get(), &buf);
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

TEST(CmpGenm, RootCaKeyUpdateRoundTrip) {
  RootCaKeyUpdate in{SelfSigned("new"), SelfSigned("nwo"), SelfSigned("own")};
  auto der = EncodeRootCaKeyUpdate(in);
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  auto out = DecodeRootCaKeyUpdate(*der);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->new_with_new, in.new_with_new);
  EXPECT_EQ(out->new_with_old, in.new_with_old);
  EXPECT_EQ(out->old_with_new, in.old_with_new);
  // RFC 9480 §2.3: the link certificates are optional, tagged [0] and [1].
  RootCaKeyUpdate only{in.new_with_new, {}, in.old_with_new};
  der = EncodeRootCaKeyUpdate(only);
  ASSERT_TRUE(der.ok());
  out = DecodeRootCaKeyUpdate(*der);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->new_with_old.empty());
  EXPECT_EQ(out->old_with_new, in.old_with_new);
  EXPECT_FALSE(EncodeRootCaKeyUpdate(RootCaKeyUpdate{}).ok());
}

TEST(CmpGenm, CrlStatusListRoundTrip) {
  ossl::UniquePtr<X509_NAME> issuer(X509_NAME_new());
  X509_NAME_add_entry_by_txt(issuer.get(), "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("CA"), -1, -1, 0);
  unsigned char* buf = nullptr;
  int len = i2d_X509_NAME(issuer.get(), &buf);
  Bytes issuer_der(buf, buf + len);
  OPENSSL_free(buf);
  std::vector<CrlStatus> in(2);
  in[0].dpn_uris = {"http://ca.example/crl/full.crl"};
  in[0].this_update = 1700000000;
  in[1].issuers = {issuer_der};
  auto der = EncodeCrlStatusList(in);
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  auto out = DecodeCrlStatusList(*der);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].dpn_uris, in[0].dpn_uris);
  EXPECT_EQ((*out)[0].this_update, in[0].this_update);
  EXPECT_EQ((*out)[1].issuers, in[1].issuers);
  EXPECT_FALSE((*out)[1].this_update.has_value());
  EXPECT_FALSE(EncodeCrlStatusList({}).ok());
  EXPECT_FALSE(EncodeCrlStatusList({CrlStatus{}}).ok());
}

TEST(CmpGenm, CrlsRoundTrip) {
  std::vector<Bytes> in{Crl(), Crl()};
  auto der = EncodeCrls(in);
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  auto out = DecodeCrls(*der);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, in);
  EXPECT_FALSE(EncodeCrls({}).ok());
}

TEST(CmpGenm, RefusesTruncatedAndTrailingInput) {
  auto status = EncodeCrlStatusList({CrlStatus{{"http://x/crl"}, {}, 1700000000}});
  auto root = EncodeRootCaKeyUpdate(RootCaKeyUpdate{SelfSigned("r"), {}, {}});
  auto crls = EncodeCrls({Crl()});
  ASSERT_TRUE(status.ok() && root.ok() && crls.ok());
  for (size_t n = 0; n < status->size(); ++n) {
    EXPECT_FALSE(DecodeCrlStatusList(std::span<const uint8_t>(status->data(), n)).ok()) << n;
  }
  for (size_t n = 0; n < root->size(); ++n) {
    EXPECT_FALSE(DecodeRootCaKeyUpdate(std::span<const uint8_t>(root->data(), n)).ok()) << n;
  }
  for (size_t n = 0; n < crls->size(); ++n) EXPECT_FALSE(DecodeCrls(std::span<const uint8_t>(crls->data(), n)).ok()) << n;
  Bytes trailing = *status;
  trailing.push_back(0);
  EXPECT_FALSE(DecodeCrlStatusList(trailing).ok());
  EXPECT_FALSE(DecodeCrls(*status).ok());  // another type
}

}  // namespace
}  // namespace certvault::ca::cmp
