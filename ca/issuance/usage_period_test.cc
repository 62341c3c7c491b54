// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/issuance/usage_period.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include "src/crypto/ossl_ptr.h"

namespace certvault::ca {
namespace {

constexpr int64_t kNotBefore = 1'800'000'000;
constexpr int64_t kDay = 86400;

ossl::UniquePtr<X509> CertFrom(int64_t not_before) {
  ossl::UniquePtr<X509> cert(X509_new());
  EXPECT_NE(X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, 0, reinterpret_cast<time_t*>(&not_before)), nullptr);
  return cert;
}

TEST(IssuingKeyUsage, EndsAfterTheConfiguredDaysFromNotBefore) {
  CaConfig cfg;
  cfg.issuing_key_usage_days = 30;
  ossl::UniquePtr<X509> cert = CertFrom(kNotBefore);
  EXPECT_TRUE(CheckIssuingKeyUsage(cfg, cert.get(), kNotBefore).ok());
  EXPECT_TRUE(CheckIssuingKeyUsage(cfg, cert.get(), kNotBefore + 30 * kDay - 1).ok());
  Status over = CheckIssuingKeyUsage(cfg, cert.get(), kNotBefore + 30 * kDay);
  EXPECT_EQ(over.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(over.message().find("usage period ended at 2027-02-14T08:00:00Z"), std::string::npos) << over.ToString();
  EXPECT_NE(over.message().find("issuing_key_usage_days = 30"), std::string::npos);
}

TEST(IssuingKeyUsage, ZeroMeansNoLimit) {
  CaConfig cfg;
  ossl::UniquePtr<X509> cert = CertFrom(kNotBefore);
  EXPECT_TRUE(CheckIssuingKeyUsage(cfg, cert.get(), kNotBefore + 36500 * kDay).ok());
}

TEST(IssuingKeyUsage, ConfigRefusesAPeriodLongerThanTheCertificate) {
  auto bad = ParseConfig(
      "[ca]\nname = \"x\"\nissuing_subject = \"/CN=x\"\nissuing_days = 10\n"
      "issuing_key_usage_days = 11\n[token]\nmodule = \"m\"\nlabel = \"l\"\n",
      "/tmp");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("issuing_key_usage_days"), std::string::npos) << bad.status().ToString();
}

}  // namespace
}  // namespace certvault::ca
