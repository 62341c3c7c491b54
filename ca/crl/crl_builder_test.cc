// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Full, delta and partitioned CRLs signed by a CA key in a real certvault
// token, read back with OpenSSL's X509_CRL API: signature, numbers, the delta
// indicator, times, entries with reasons and invalidity dates, the issuing
// distribution point, and expired entries dropped.
#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <map>

#include "ca/crl/crl_builder.h"
#include "ca/crl/crl_service.h"
#include "ca/testing/test_ca.h"

namespace certvault::ossl {
CV_OSSL_DELETER(ISSUING_DIST_POINT, ISSUING_DIST_POINT_free)
}  // namespace certvault::ossl

namespace certvault::ca {
namespace {

using testing::TestCa;

ossl::UniquePtr<X509_CRL> ParseCrl(const Bytes& der) {
  const uint8_t* p = der.data();
  ossl::UniquePtr<X509_CRL> crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  EXPECT_EQ(p, der.data() + der.size()) << "trailing bytes after the CRL";
  return crl;
}

int64_t IntegerExt(X509_CRL* crl, int nid, int* out_critical) {
  ossl::UniquePtr<ASN1_STRING> v(static_cast<ASN1_STRING*>(X509_CRL_get_ext_d2i(crl, nid, out_critical, nullptr)));
  int64_t out = -1;
  if (v == nullptr || ASN1_INTEGER_get_int64(&out, v.get()) != 1) return -1;
  return out;
}

time_t TimeOf(const ASN1_TIME* t) {
  struct tm tm_v;
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm_v) != 1) return -1;
  return timegm(&tm_v);
}

struct Entry {
  time_t revoked_at = 0;
  int reason = -1;            // -1: no reasonCode extension
  time_t invalidity = 0;      // 0: no invalidityDate
};

// Entries: serial hex -> what the CRL says about it.
std::map<std::string, Entry> Entries(X509_CRL* crl) {
  std::map<std::string, Entry> out;
  STACK_OF(X509_REVOKED)* list = X509_CRL_get_REVOKED(crl);
  for (int i = 0; i < sk_X509_REVOKED_num(list); ++i) {
    X509_REVOKED* r = sk_X509_REVOKED_value(list, i);
    ossl::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(r), nullptr));
    Bytes bytes(static_cast<size_t>(BN_num_bytes(bn.get())));
    BN_bn2bin(bn.get(), bytes.data());
    Entry e;
    e.revoked_at = TimeOf(X509_REVOKED_get0_revocationDate(r));
    ossl::UniquePtr<ASN1_STRING> reason(static_cast<ASN1_STRING*>(X509_REVOKED_get_ext_d2i(r, NID_crl_reason, nullptr,
                                                                                            nullptr)));
    if (reason != nullptr) e.reason = static_cast<int>(ASN1_ENUMERATED_get(reason.get()));
    ossl::UniquePtr<ASN1_STRING> inval(static_cast<ASN1_STRING*>(X509_REVOKED_get_ext_d2i(r, NID_invalidity_date,
                                                                                           nullptr, nullptr)));
    if (inval != nullptr) e.invalidity = TimeOf(inval.get());
    out[HexEncode(bytes)] = e;
  }
  return out;
}

class CrlBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto made = TestCa::Create();
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    t_ = std::move(*made);
    auto issued = t_->IssueDevices(8, "crl");
    ASSERT_TRUE(issued.ok()) << issued.status().ToString();
    for (const IssueOutcome& o : *issued) serials_.push_back(o.serial);
  }
  void Revoke(size_t i, int reason, int64_t invalidity, int64_t at) {
    std::vector<Revocation> one = {{serials_[i], reason, invalidity}};
    ASSERT_TRUE(t_->ca().db().Revoke(t_->IssuingName(), one, at, "unit-test").ok());
  }
  CrlRequest Request(bool delta) {
    return CrlRequest{t_->IssuingName(), t_->Issuing(), delta, 0, 1, delta ? 24u : 168u,
                      "http://crl.test/crl/full.crl", "http://crl.test/crl/delta.crl", now_};
  }
  std::unique_ptr<TestCa> t_;
  std::vector<std::string> serials_;
  const time_t now_ = std::time(nullptr);  // the test certificates are valid for a year from now
};

TEST_F(CrlBuilderTest, FullCrlVerifiesAndListsReasonsAndDates) {
  Revoke(0, 1, now_ - 7200, now_ - 3600);  // keyCompromise, compromised two hours ago
  Revoke(1, 4, 0, now_ - 1800);            // superseded
  Revoke(2, 0, 0, now_ - 60);              // unspecified: no reasonCode (RFC 5280 §5.3.1)
  auto rec = GenerateCrl(t_->ca().db(), t_->IssuingKey(), Request(false), "unit-test");
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  ossl::UniquePtr<X509_CRL> crl = ParseCrl(rec->der);
  ASSERT_NE(crl, nullptr);
  EXPECT_EQ(X509_CRL_get_version(crl.get()), 1);  // v2
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(t_->Issuing())), 1);
  EXPECT_NE(X509_CRL_verify(crl.get(), X509_get0_pubkey(t_->Root())), 1) << "verifies with the wrong key";
  EXPECT_EQ(X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(t_->Issuing())), 0);
  EXPECT_EQ(TimeOf(X509_CRL_get0_lastUpdate(crl.get())), now_);
  EXPECT_EQ(TimeOf(X509_CRL_get0_nextUpdate(crl.get())), now_ + 168 * 3600);
  int crit = -2;
  EXPECT_EQ(IntegerExt(crl.get(), NID_crl_number, &crit), rec->number);
  EXPECT_EQ(crit, 0);
  EXPECT_EQ(IntegerExt(crl.get(), NID_delta_crl, &crit), -1);
  EXPECT_EQ(crit, -1) << "a full CRL has no deltaCRLIndicator";
  EXPECT_GE(X509_CRL_get_ext_by_NID(crl.get(), NID_freshest_crl, -1), 0);
  EXPECT_GE(X509_CRL_get_ext_by_NID(crl.get(), NID_authority_key_identifier, -1), 0);
  EXPECT_LT(X509_CRL_get_ext_by_NID(crl.get(), NID_issuing_distribution_point, -1), 0);
  std::map<std::string, Entry> e = Entries(crl.get());
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[serials_[0]].reason, 1);
  EXPECT_EQ(e[serials_[0]].invalidity, now_ - 7200);
  EXPECT_EQ(e[serials_[0]].revoked_at, now_ - 3600);
  EXPECT_EQ(e[serials_[1]].reason, 4);
  EXPECT_EQ(e[serials_[1]].invalidity, 0);
  EXPECT_EQ(e[serials_[2]].reason, -1);
  EXPECT_EQ(e[serials_[2]].revoked_at, now_ - 60);
  // The cached DER is what LatestCrl serves.
  EXPECT_EQ(t_->ca().db().LatestCrl(t_->IssuingName(), false, 0)->der, rec->der);
}

TEST_F(CrlBuilderTest, DeltaListsOnlyNewRevocationsWithItsBase) {
  Revoke(0, 1, 0, now_ - 100);
  auto base = GenerateCrl(t_->ca().db(), t_->IssuingKey(), Request(false), "unit-test");
  ASSERT_TRUE(base.ok());
  Revoke(3, 5, 0, now_ - 50);
  Revoke(4, 3, now_ - 500, now_ - 40);
  auto delta = GenerateCrl(t_->ca().db(), t_->IssuingKey(), Request(true), "unit-test");
  ASSERT_TRUE(delta.ok()) << delta.status().ToString();
  ossl::UniquePtr<X509_CRL> crl = ParseCrl(delta->der);
  ASSERT_NE(crl, nullptr);
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(t_->Issuing())), 1);
  int crit = -2;
  EXPECT_EQ(IntegerExt(crl.get(), NID_crl_number, &crit), base->number + 1);
  EXPECT_EQ(IntegerExt(crl.get(), NID_delta_crl, &crit), base->number);
  EXPECT_EQ(crit, 1) << "deltaCRLIndicator must be critical (RFC 5280 §5.2.4)";
  EXPECT_LT(X509_CRL_get_ext_by_NID(crl.get(), NID_freshest_crl, -1), 0);
  EXPECT_EQ(TimeOf(X509_CRL_get0_nextUpdate(crl.get())), now_ + 24 * 3600);
  std::map<std::string, Entry> e = Entries(crl.get());
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[serials_[3]].reason, 5);
  EXPECT_EQ(e[serials_[4]].reason, 3);
  EXPECT_EQ(e[serials_[4]].invalidity, now_ - 500);
  EXPECT_EQ(e.count(serials_[0]), 0u) << "the delta repeats its base";
  // A delta without a base is refused.
  CrlRequest other = Request(true);
  other.ca = "test-root";
  EXPECT_EQ(GenerateCrl(t_->ca().db(), t_->IssuingKey(), other, "unit-test").status().code(),
            StatusCode::kFailedPrecondition);
}

std::string IdpUri(X509_CRL* crl, int* out_critical) {
  ossl::UniquePtr<ISSUING_DIST_POINT> idp(static_cast<ISSUING_DIST_POINT*>(
      X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, out_critical, nullptr)));
  if (idp == nullptr || idp->distpoint == nullptr || idp->distpoint->type != 0) return "";
  GENERAL_NAMES* names = idp->distpoint->name.fullname;
  if (sk_GENERAL_NAME_num(names) != 1) return "";
  GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, 0);
  if (gn->type != GEN_URI) return "";
  const ASN1_IA5STRING* uri = gn->d.uniformResourceIdentifier;
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)), ASN1_STRING_length(uri));
}

TEST_F(CrlBuilderTest, PartitionsCarryTheirDistributionPoint) {
  for (size_t i = 0; i < serials_.size(); ++i) Revoke(i, 1, 0, now_ - 10);
  constexpr uint32_t kParts = 3;
  std::map<std::string, uint32_t> seen;
  for (uint32_t p = 0; p < kParts; ++p) {
    for (bool delta : {false, true}) {
      CrlRequest req = Request(delta);
      req.partition = p;
      req.partitions = kParts;
      auto rec = GenerateCrl(t_->ca().db(), t_->IssuingKey(), req, "unit-test");
      ASSERT_TRUE(rec.ok()) << rec.status().ToString();
      ossl::UniquePtr<X509_CRL> crl = ParseCrl(rec->der);
      ASSERT_NE(crl, nullptr);
      EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(t_->Issuing())), 1);
      int crit = -2;
      EXPECT_EQ(IdpUri(crl.get(), &crit), "http://crl.test/crl/full-p" + std::to_string(p) + ".crl");
      EXPECT_EQ(crit, 1);
      if (delta) {
        EXPECT_TRUE(Entries(crl.get()).empty());
        continue;
      }
      for (const auto& [serial, e] : Entries(crl.get())) {
        EXPECT_EQ(PartitionOf(serial, kParts), p) << serial;
        seen[serial] = p;
      }
    }
  }
  EXPECT_EQ(seen.size(), serials_.size()) << "partitions together list every revocation";
}

TEST_F(CrlBuilderTest, ExpiredEntriesAreDropped) {
  Revoke(0, 1, 0, now_ - 10);
  CrlRequest req = Request(false);
  auto cert = t_->ca().db().FindBySerial(t_->IssuingName(), serials_[0]);
  ASSERT_TRUE(cert.ok());
  req.now = static_cast<time_t>(cert->not_after) - 1;
  auto before = GenerateCrl(t_->ca().db(), t_->IssuingKey(), req, "unit-test");
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(Entries(ParseCrl(before->der).get()).size(), 1u);
  req.now = static_cast<time_t>(cert->not_after) + 1;
  auto after = GenerateCrl(t_->ca().db(), t_->IssuingKey(), req, "unit-test");
  ASSERT_TRUE(after.ok());
  ossl::UniquePtr<X509_CRL> crl = ParseCrl(after->der);
  ASSERT_NE(crl, nullptr);
  EXPECT_TRUE(Entries(crl.get()).empty()) << "an expired certificate stays on the CRL";
  EXPECT_EQ(X509_CRL_get_REVOKED(crl.get()), nullptr) << "an empty list must be absent (RFC 5280 §5.1.2.6)";
}

TEST_F(CrlBuilderTest, BuildCrlEncodesHighBitSerialsAndRejectsMalformedOnes) {
  RevokedEntry high;
  high.id = 1;
  high.serial_len = 3;
  high.serial[0] = 0x80;
  high.serial[1] = 0x00;
  high.serial[2] = 0x01;
  high.revoked_at = now_;
  CrlSpec spec{t_->Issuing(), 7, false, 0, now_, now_ + 60, "", "", std::span<const RevokedEntry>(&high, 1)};
  auto der = BuildCrl(spec, t_->IssuingKey());
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  ossl::UniquePtr<X509_CRL> crl = ParseCrl(*der);
  ASSERT_NE(crl, nullptr);
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(t_->Issuing())), 1);
  std::map<std::string, Entry> e = Entries(crl.get());
  EXPECT_EQ(e.count("800001"), 1u) << "a serial with the top bit set must stay positive";
  int crit = 0;
  EXPECT_EQ(IntegerExt(crl.get(), NID_crl_number, &crit), 7);
  RevokedEntry bad;
  bad.serial_len = 0;
  spec.entries = std::span<const RevokedEntry>(&bad, 1);
  EXPECT_EQ(BuildCrl(spec, t_->IssuingKey()).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace certvault::ca
