// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Migration 5 on both backends: enrollment codes burnt exactly once and the
// CMP transactionID map, each connection standing for another `serve`
// process on the same database.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "ca/db/cert_db.h"
#include "ca/testing/shared_db.h"
#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

// Dbs: one database and two connections to it (two serve processes).
struct Dbs {
  std::unique_ptr<testing::SharedDb> shared;
  std::unique_ptr<CertDb> a, b;
  std::unique_ptr<CertDb> Open() {
    auto db = OpenCertDb(shared->url());
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(*db) : nullptr;
  }
};

Result<Dbs> MakeDbs(bool postgres) {
  Dbs d;
  CV_ASSIGN_OR_RETURN(d.shared, testing::SharedDb::Create(postgres));
  CV_ASSIGN_OR_RETURN(d.a, OpenCertDb(d.shared->url()));
  CV_ASSIGN_OR_RETURN(d.b, OpenCertDb(d.shared->url()));
  return d;
}

CertRecord Rec(const std::string& serial, const std::string& tid, const std::string& claim) {
  CertRecord r{"ca-issuing", serial, "/CN=" + serial, "device", 100, 2000000000, Bytes{0x30, 0x00}};
  r.cmp_tid = tid;
  r.cmp_claim = claim;
  return r;
}

constexpr int64_t kNow = 1800000000;

EnrollCodeRow Code(const std::string& id) {
  return EnrollCodeRow{id, "device", kNow + 3600, 0, Bytes(16, 1), Bytes(32, 2), {}};
}

void EnrollCodeBurnsOnce(Dbs& d) {
  ASSERT_TRUE(d.a->AddEnrollCode(Code("c1"), kNow).ok());
  EXPECT_EQ(d.a->AddEnrollCode(Code("c1"), kNow).code(), StatusCode::kAlreadyExists);
  auto seen = d.b->FindEnrollCode("c1");
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  EXPECT_EQ(seen->used, 0);
  EXPECT_TRUE(seen->secret.empty());
  EXPECT_EQ(d.b->BurnEnrollCode("c1", "server", kNow).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(d.b->BurnEnrollCode("c1", "device", kNow + 3601).code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(d.b->BurnEnrollCode("c1", "device", kNow).ok());
  EXPECT_EQ(d.a->BurnEnrollCode("c1", "device", kNow).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(d.a->FindEnrollCode("c1")->used, kNow);
  ASSERT_TRUE(d.a->ReturnEnrollCode("c1", kNow + 5).ok());  // not the burn it made: nothing changes
  EXPECT_EQ(d.a->FindEnrollCode("c1")->used, kNow);
  ASSERT_TRUE(d.b->ReturnEnrollCode("c1", kNow).ok());
  EXPECT_TRUE(d.a->BurnEnrollCode("c1", "device", kNow + 1).ok());
  EXPECT_EQ(d.a->FindEnrollCode("nosuch").status().code(), StatusCode::kNotFound);
  // Creating a code deletes the expired ones.
  ASSERT_TRUE(d.a->AddEnrollCode(Code("c2"), kNow + 3601).ok());
  EXPECT_EQ(d.a->FindEnrollCode("c1").status().code(), StatusCode::kNotFound);
}

// Eight connections burn one code at the same moment: exactly one wins.
void ConcurrentBurnsHaveOneWinner(Dbs& d) {
  for (int round = 0; round < 3; ++round) {
    std::string id = "race" + std::to_string(round);
    ASSERT_TRUE(d.a->AddEnrollCode(Code(id), kNow).ok());
    std::vector<std::unique_ptr<CertDb>> dbs;
    for (int i = 0; i < 8; ++i) dbs.push_back(d.Open());
    std::atomic<int> won{0}, lost{0};
    std::vector<std::thread> threads;
    for (auto& db : dbs) {
      threads.emplace_back([&, d = db.get()] {
        Status st = d->BurnEnrollCode(id, "device", kNow);
        (st.ok() ? won : lost)++;
        EXPECT_TRUE(st.ok() || st.code() == StatusCode::kPermissionDenied) << st.ToString();
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(won.load(), 1);
    EXPECT_EQ(lost.load(), 7);
  }
}

void TransactionIdIssuesOnce(Dbs& d) {
  auto first = d.a->ClaimCmpTransaction("ca-issuing", "t1", "k1", kNow, 300);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->claimed);
  // The same transactionID on the other server while the first is issuing.
  EXPECT_EQ(d.b->ClaimCmpTransaction("ca-issuing", "t1", "k2", kNow + 1, 300).status().code(),
            StatusCode::kAlreadyExists);
  std::vector<CertRecord> recs{Rec("0a", "t1", "k1")};
  std::vector<bool> inserted;
  ASSERT_TRUE(d.a->InsertCertificates(recs, "t", inserted).ok());
  ASSERT_EQ(inserted, std::vector<bool>{true});
  // A retry on either server: the same certificate, nothing claimed.
  for (CertDb* db : {d.a.get(), d.b.get()}) {
    auto again = db->ClaimCmpTransaction("ca-issuing", "t1", "k3", kNow + 1000, 300);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_FALSE(again->claimed);
    EXPECT_EQ(again->serial, "0a");
  }
  // Another CA's transactionID space is its own.
  EXPECT_TRUE(d.b->ClaimCmpTransaction("ca-other", "t1", "k4", kNow, 300)->claimed);
}

void RefusedRequestReleasesItsClaim(Dbs& d) {
  ASSERT_TRUE(d.a->ClaimCmpTransaction("ca-issuing", "t2", "k1", kNow, 300)->claimed);
  ASSERT_TRUE(d.b->ReleaseCmpTransaction("ca-issuing", "t2", "other").ok());  // not its claim: kept
  EXPECT_EQ(d.b->ClaimCmpTransaction("ca-issuing", "t2", "k2", kNow, 300).status().code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(d.a->ReleaseCmpTransaction("ca-issuing", "t2", "k1").ok());
  EXPECT_TRUE(d.b->ClaimCmpTransaction("ca-issuing", "t2", "k2", kNow, 300)->claimed);
}

// A claim whose holder died (kill -9 before its certificate committed) is
// taken over after the lease; should the old holder still commit, its
// certificate is refused, so the transactionID never issues twice.
void StaleClaimIsTakenOverAndTheOldHolderCannotCommit(Dbs& d) {
  ASSERT_TRUE(d.a->ClaimCmpTransaction("ca-issuing", "t3", "old", kNow, 300)->claimed);
  EXPECT_EQ(d.b->ClaimCmpTransaction("ca-issuing", "t3", "new", kNow + 300, 300).status().code(),
            StatusCode::kAlreadyExists);
  ASSERT_TRUE(d.b->ClaimCmpTransaction("ca-issuing", "t3", "new", kNow + 301, 300)->claimed);
  std::vector<CertRecord> old_rec{Rec("0b", "t3", "old")};
  std::vector<bool> inserted;
  EXPECT_EQ(d.a->InsertCertificates(old_rec, "t", inserted).code(), StatusCode::kAborted);
  EXPECT_EQ(d.a->FindBySerial("ca-issuing", "0b").status().code(), StatusCode::kNotFound);
  std::vector<CertRecord> new_rec{Rec("0c", "t3", "new")};
  ASSERT_TRUE(d.b->InsertCertificates(new_rec, "t", inserted).ok());
  EXPECT_EQ(d.a->ClaimCmpTransaction("ca-issuing", "t3", "x", kNow + 9999, 300)->serial, "0c");
}

// Two connections claim one new transactionID at once: one gets it.
void ConcurrentClaimsHaveOneWinner(Dbs& d) {
  for (int round = 0; round < 3; ++round) {
    std::string tid = "race" + std::to_string(round);
    std::vector<std::unique_ptr<CertDb>> dbs;
    for (int i = 0; i < 6; ++i) dbs.push_back(d.Open());
    std::atomic<int> claimed{0}, busy{0};
    std::vector<std::thread> threads;
    for (size_t i = 0; i < dbs.size(); ++i) {
      threads.emplace_back([&, i] {
        auto c = dbs[i]->ClaimCmpTransaction("ca-issuing", tid, "k" + std::to_string(i), kNow, 300);
        if (c.ok() && c->claimed) claimed++;
        if (c.status().code() == StatusCode::kAlreadyExists) busy++;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(claimed.load(), 1);
    EXPECT_EQ(busy.load(), 5);
  }
}

void ImportKeepsWhatIsThere(Dbs& d) {
  ASSERT_TRUE(d.a->ImportCmpTransaction("ca-issuing", "t4", "0d", kNow).ok());
  ASSERT_TRUE(d.a->ImportCmpTransaction("ca-issuing", "t4", "0e", kNow).ok());
  EXPECT_EQ(d.b->ClaimCmpTransaction("ca-issuing", "t4", "k", kNow, 300)->serial, "0d");
}

struct Scenario {
  const char* name;
  void (*run)(Dbs&);
};
const Scenario kScenarios[] = {
    {"EnrollCodeBurnsOnce", EnrollCodeBurnsOnce},
    {"ConcurrentBurnsHaveOneWinner", ConcurrentBurnsHaveOneWinner},
    {"TransactionIdIssuesOnce", TransactionIdIssuesOnce},
    {"RefusedRequestReleasesItsClaim", RefusedRequestReleasesItsClaim},
    {"StaleClaimIsTakenOverAndTheOldHolderCannotCommit", StaleClaimIsTakenOverAndTheOldHolderCannotCommit},
    {"ConcurrentClaimsHaveOneWinner", ConcurrentClaimsHaveOneWinner},
    {"ImportKeepsWhatIsThere", ImportKeepsWhatIsThere},
};

class SharedStateSqliteTest : public ::testing::TestWithParam<Scenario> {};

TEST_P(SharedStateSqliteTest, Holds) {
  auto d = MakeDbs(false);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  GetParam().run(*d);
}

INSTANTIATE_TEST_SUITE_P(Scenarios, SharedStateSqliteTest, ::testing::ValuesIn(kScenarios),
                         [](const auto& p) { return std::string(p.param.name); });

// PostgreSQL: every scenario in one test on one database (their ids do not
// overlap): a server start costs seconds and ctest runs each test in a
// process of its own.
TEST(SharedStatePostgresTest, AllScenariosHold) {
  auto d = MakeDbs(true);
  if (d.status().code() == StatusCode::kNotFound) GTEST_SKIP() << d.status().ToString();
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  for (const Scenario& s : kScenarios) {
    SCOPED_TRACE(s.name);
    s.run(*d);
  }
}

}  // namespace
}  // namespace certvault::ca
