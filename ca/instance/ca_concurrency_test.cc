// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The CA's threads at once, against a real certvault token: batch issuance
// through the sign pool and the commit thread, while another thread revokes
// (its own database connection) and a third builds full and delta CRLs with
// the same CA key. Run under TSan by scripts/test.sh (filter *Concurrent*).
#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <atomic>
#include <set>
#include <thread>

#include "ca/crl/crl_service.h"
#include "ca/testing/test_ca.h"

namespace certvault::ca {
namespace {

using testing::CrlSerials;
using testing::TestCa;

TEST(CaConcurrentTest, IssueRevokeAndCrlAtOnce) {
  auto made = TestCa::Create();
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  TestCa& t = **made;
  auto first = t.IssueDevices(120, "early");
  ASSERT_TRUE(first.ok()) << first.status().ToString();

  auto revoke_db = t.Connect();
  auto crl_db = t.Connect();
  ASSERT_TRUE(revoke_db.ok() && crl_db.ok());
  CrlRequest full{t.IssuingName(), t.Issuing(), false, 0, 1, 24, "", "", 0};
  CrlRequest delta = full;
  delta.delta = true;
  ASSERT_TRUE(GenerateCrl(**crl_db, t.IssuingKey(), full, "unit-test").ok());

  std::atomic<int> busy{2};  // the issuer and the revoker
  Status issue_status, revoke_status, crl_status;
  std::vector<IssueOutcome> late;
  std::set<std::string> revoked;
  int crls = 0;
  std::thread issuer([&] {
    auto r = t.IssueDevices(300, "late", 2, 32);  // sign pool + commit thread, 10 commits
    issue_status = r.status();
    if (r.ok()) late = std::move(*r);
    --busy;
  });
  std::thread revoker([&] {
    for (size_t i = 0; i < first->size() && revoke_status.ok(); i += 6) {
      std::vector<Revocation> batch;
      for (size_t k = i; k < std::min(i + 6, first->size()); ++k) {
        batch.push_back({(*first)[k].serial, static_cast<int>(1 + k % 5), 0});
        revoked.insert((*first)[k].serial);
      }
      revoke_status = (*revoke_db)->Revoke(t.IssuingName(), batch, std::time(nullptr), "unit-test");
    }
    --busy;
  });
  std::thread crl_maker([&] {
    while (busy > 0 && crl_status.ok()) {
      crl_status = GenerateCrl(**crl_db, t.IssuingKey(), ++crls % 4 == 0 ? full : delta, "unit-test").status();
      // SQLite's busy handler is not fair: back to back, the CRL writer
      // could starve the issuer's commits past the busy timeout.
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  issuer.join();
  revoker.join();
  crl_maker.join();
  ASSERT_TRUE(issue_status.ok()) << issue_status.ToString();
  ASSERT_TRUE(revoke_status.ok()) << revoke_status.ToString();
  ASSERT_TRUE(crl_status.ok()) << crl_status.ToString();
  EXPECT_GT(crls, 0);

  // Everything issued is stored once; serials are unique.
  std::set<std::string> serials;
  for (const auto* outs : {&*first, &late}) {
    for (const IssueOutcome& o : *outs) serials.insert(o.serial);
  }
  EXPECT_EQ(serials.size(), 420u);
  EXPECT_EQ(*t.ca().db().CountCertificates(t.IssuingName()), 421);  // and the OCSP signer
  // The newest full CRL plus a delta on top of it list exactly the revoked set.
  auto base = t.ca().db().LatestCrl(t.IssuingName(), false, 0);
  ASSERT_TRUE(base.ok());
  auto last_delta = GenerateCrl(t.ca().db(), t.IssuingKey(), delta, "unit-test");
  ASSERT_TRUE(last_delta.ok()) << last_delta.status().ToString();
  EXPECT_EQ(last_delta->base_number, base->number);
  std::set<std::string> listed = CrlSerials(base->der, t.Issuing());
  std::set<std::string> in_delta = CrlSerials(last_delta->der, t.Issuing());
  listed.insert(in_delta.begin(), in_delta.end());
  EXPECT_EQ(listed, revoked);
  auto final_full = GenerateCrl(t.ca().db(), t.IssuingKey(), full, "unit-test");
  ASSERT_TRUE(final_full.ok());
  EXPECT_EQ(CrlSerials(final_full->der, t.Issuing()), revoked);
}

}  // namespace
}  // namespace certvault::ca
