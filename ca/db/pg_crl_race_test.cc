// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CRL snapshots against concurrent revocations on PostgreSQL (a private
// server). Revocation ids come from a sequence, so three revokers, each on
// its own connection (a separate server backend, as separate processes
// would be), commit ids out of order while a fourth connection builds full
// and delta CRLs back to back. Every CRL must list exactly the revocations
// up to its high-water mark (a full CRL: all ids <= max; a delta: all ids in
// (base max, max]); a revocation that commits late must never be skipped.
// Without CertDb::RevokedForCrl's LOCK TABLE ... IN SHARE MODE this fails.
#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "ca/crl/crl_service.h"
#include "ca/testing/pg_server.h"
#include "ca/testing/test_ca.h"

namespace certvault::ca {
namespace {

using testing::PgServer;
using testing::CrlSerials;
using testing::TestCa;

// Between: the serials whose revocation id is in (lo, hi].
std::set<std::string> Between(const std::map<int64_t, std::string>& by_id, int64_t lo, int64_t hi) {
  std::set<std::string> out;
  for (auto it = by_id.upper_bound(lo); it != by_id.end() && it->first <= hi; ++it) out.insert(it->second);
  return out;
}

// Diff: "" when equal, else how many serials are missing and extra.
std::string Diff(const std::set<std::string>& listed, const std::set<std::string>& want) {
  size_t missing = 0, extra = 0;
  for (const std::string& s : want) missing += listed.count(s) == 0;
  for (const std::string& s : listed) extra += want.count(s) == 0;
  if (missing == 0 && extra == 0) return "";
  return std::to_string(missing) + " revocation(s) missing, " + std::to_string(extra) + " extra";
}

TEST(PgCrlConcurrentTest, LateCommitsAreNeverSkipped) {
  auto pg = PgServer::Start();
  if (pg.status().code() == StatusCode::kNotFound) GTEST_SKIP() << pg.status().ToString();
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  testing::TestCaOptions opts;
  opts.database = (*pg)->conninfo();
  auto made = TestCa::Create(opts);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  TestCa& t = **made;
  constexpr size_t kRevokers = 3, kPerRevoker = 90, kBatch = 9;
  auto issued = t.IssueDevices(kRevokers * kPerRevoker, "race", 2, 128);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  CrlRequest full{t.IssuingName(), t.Issuing(), false, 0, 1, 24, "", "", 0};
  CrlRequest delta = full;
  delta.delta = true;
  auto crl_db = t.Connect();
  ASSERT_TRUE(crl_db.ok());
  std::vector<CrlRecord> crls;
  auto first = GenerateCrl(**crl_db, t.IssuingKey(), full, "unit-test");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  crls.push_back(*first);

  std::atomic<size_t> running{kRevokers};
  std::vector<Status> results(kRevokers);
  std::vector<std::thread> revokers;
  for (size_t r = 0; r < kRevokers; ++r) {
    revokers.emplace_back([&, r] {
      auto db = t.Connect();
      results[r] = db.status();
      for (size_t i = 0; db.ok() && results[r].ok() && i < kPerRevoker; i += kBatch) {
        std::vector<Revocation> batch;
        for (size_t k = i; k < i + kBatch; ++k) batch.push_back({(*issued)[r * kPerRevoker + k].serial, 1, 0});
        results[r] = (*db)->Revoke(t.IssuingName(), batch, std::time(nullptr), "unit-test");
      }
      --running;
    });
  }
  Status crl_status;
  for (int n = 1; running > 0 && crl_status.ok(); ++n) {
    auto rec = GenerateCrl(**crl_db, t.IssuingKey(), n % 5 == 0 ? full : delta, "unit-test");
    crl_status = rec.status();
    if (rec.ok()) crls.push_back(std::move(*rec));
  }
  for (std::thread& th : revokers) th.join();
  ASSERT_TRUE(crl_status.ok()) << crl_status.ToString();
  for (const Status& st : results) ASSERT_TRUE(st.ok()) << st.ToString();
  size_t during = crls.size();
  auto last_delta = GenerateCrl(**crl_db, t.IssuingKey(), delta, "unit-test");
  auto last_full = GenerateCrl(**crl_db, t.IssuingKey(), full, "unit-test");
  ASSERT_TRUE(last_delta.ok() && last_full.ok());
  crls.push_back(*last_delta);
  crls.push_back(*last_full);

  // Every revocation, by id, as committed.
  auto all = t.ca().db().Revoked(t.IssuingName(), 0, std::time(nullptr), 0, 1);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), kRevokers * kPerRevoker);
  std::map<int64_t, std::string> by_id;
  for (const RevokedEntry& e : *all) by_id[e.id] = HexEncode(std::span<const uint8_t>(e.serial.data(), e.serial_len));
  std::map<int64_t, const CrlRecord*> fulls;
  for (const CrlRecord& c : crls) {
    if (!c.delta) fulls[c.number] = &c;
  }
  size_t checked_deltas = 0;
  for (const CrlRecord& c : crls) {
    std::set<std::string> listed = CrlSerials(c.der, t.Issuing());
    if (!c.delta) {
      EXPECT_EQ(Diff(listed, Between(by_id, 0, c.max_revocation_id)), "") << "full CRL " << c.number;
      continue;
    }
    auto base = fulls.find(c.base_number);
    ASSERT_NE(base, fulls.end()) << "delta " << c.number << " names an unknown base";
    EXPECT_EQ(Diff(listed, Between(by_id, base->second->max_revocation_id, c.max_revocation_id)), "")
        << "delta CRL " << c.number << " (base " << c.base_number << ")";
    ++checked_deltas;
  }
  std::set<std::string> everything;
  for (const auto& [id, serial] : by_id) everything.insert(serial);
  EXPECT_EQ(Diff(CrlSerials(last_full->der, t.Issuing()), everything), "") << "the final full CRL";
  std::set<std::string> base_and_delta = CrlSerials(fulls[last_delta->base_number]->der, t.Issuing());
  std::set<std::string> in_delta = CrlSerials(last_delta->der, t.Issuing());
  base_and_delta.insert(in_delta.begin(), in_delta.end());
  EXPECT_EQ(Diff(base_and_delta, everything), "") << "base + newest delta";
  EXPECT_GE(during, 3u) << "the CRLs did not overlap the revocations";
  EXPECT_GT(checked_deltas, 0u);
}

}  // namespace
}  // namespace certvault::ca
