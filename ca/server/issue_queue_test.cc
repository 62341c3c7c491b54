// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// IssueQueue under concurrent submitters (run under TSan by scripts/test.sh,
// filter *Concurrent*): every good CSR is issued exactly once and stored
// before Submit returns, refused CSRs store nothing, and requests of two
// profiles queued together are each issued under their own profile;
// SubmitAsync answers many requests of one thread, each once committed.
#include "ca/server/issue_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "ca/testing/test_ca.h"
#include "src/crypto/libctx.h"

namespace certvault::ca {
namespace {

using testing::MakeCsr;
using testing::TestCa;

TEST(IssueQueueConcurrentTest, EverySubmitterGetsItsOwnStoredCertificate) {
  auto made = TestCa::Create();
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  TestCa& t = **made;
  auto db = t.Connect();
  ASSERT_TRUE(db.ok());
  auto lookup = t.Connect();
  ASSERT_TRUE(lookup.ok());
  ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(crypto::LibCtx(), nullptr, "EC", "P-256"));
  constexpr int kThreads = 6, kPerThread = 8;
  std::vector<std::vector<Bytes>> csrs(kThreads);
  for (int th = 0; th < kThreads; ++th) {
    for (int i = 0; i < kPerThread; ++i) csrs[th].push_back(MakeCsr("q" + std::to_string(th) + "-" + std::to_string(i), key.get()));
  }
  int64_t before = *(*lookup)->CountCertificates(t.IssuingName());
  std::mutex mu;
  std::set<std::string> serials;
  std::atomic<int> issued{0}, refused{0}, errors{0};
  {
    IssueQueue queue(t.ca().config(), t.IssuingName(), t.IssuingKey(), t.Issuing(), **db, "unit-test", 2);
    std::vector<std::thread> threads;
    for (int th = 0; th < kThreads; ++th) {
      threads.emplace_back([&, th] {
        for (int i = 0; i < kPerThread; ++i) {
          bool bad = i % 4 == 3;  // a truncated CSR: refused, nothing stored
          Bytes csr = csrs[th][i];
          if (bad) csr.resize(csr.size() / 2);
          auto out = queue.Submit(IssueItem{"t", csr, ""}, "device");
          if (!out.ok()) {
            ++errors;
            continue;
          }
          if (!out->status.ok()) {
            ++refused;
            continue;
          }
          auto rec = [&] {
            std::lock_guard<std::mutex> lock(mu);
            return (*lookup)->FindBySerial(t.IssuingName(), out->serial);
          }();
          EXPECT_TRUE(rec.ok()) << "not stored when Submit returned";
          std::lock_guard<std::mutex> lock(mu);
          EXPECT_TRUE(serials.insert(out->serial).second) << "serial issued twice";
          ++issued;
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(refused.load(), kThreads * kPerThread / 4);
  EXPECT_EQ(issued.load(), kThreads * kPerThread * 3 / 4);
  EXPECT_EQ(*(*lookup)->CountCertificates(t.IssuingName()), before + issued.load());
}

TEST(IssueQueueConcurrentTest, UnknownProfileIsAnErrorForThatRequestOnly) {
  auto made = TestCa::Create();
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  TestCa& t = **made;
  auto db = t.Connect();
  ASSERT_TRUE(db.ok());
  ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(crypto::LibCtx(), nullptr, "EC", "P-256"));
  IssueQueue queue(t.ca().config(), t.IssuingName(), t.IssuingKey(), t.Issuing(), **db, "unit-test", 2);
  Result<IssueOutcome> bad(InternalError("unset")), good(InternalError("unset"));
  std::thread a([&] { bad = queue.Submit(IssueItem{"a", MakeCsr("pa", key.get()), ""}, "nosuch"); });
  std::thread b([&] { good = queue.Submit(IssueItem{"b", MakeCsr("pb", key.get()), ""}, "device"); });
  a.join();
  b.join();
  EXPECT_FALSE(bad.ok());
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_TRUE(good->status.ok()) << good->status.ToString();
}

// One submitting thread, many requests in flight (as the HTTP server's
// suspended connections are): every callback comes once, after its
// certificate is committed, and they share group commits.
TEST(IssueQueueConcurrentTest, AsyncSubmissionsAreAnsweredOnceCommitted) {
  auto made = TestCa::Create();
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  TestCa& t = **made;
  auto db = t.Connect();
  ASSERT_TRUE(db.ok());
  auto lookup = t.Connect();
  ASSERT_TRUE(lookup.ok());
  ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(crypto::LibCtx(), nullptr, "EC", "P-256"));
  constexpr int kRequests = 40;
  std::vector<Bytes> csrs;
  for (int i = 0; i < kRequests; ++i) csrs.push_back(MakeCsr("async-" + std::to_string(i), key.get()));
  int64_t before = *(*lookup)->CountCertificates(t.IssuingName());
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::string> serials;
  int answered = 0, not_stored = 0, failed = 0;
  {
    IssueQueue queue(t.ca().config(), t.IssuingName(), t.IssuingKey(), t.Issuing(), **db, "unit-test", 2);
    for (int i = 0; i < kRequests; ++i) {
      queue.SubmitAsync(IssueItem{"a", csrs[static_cast<size_t>(i)], ""}, "device", [&](Result<IssueOutcome> out) {
        std::lock_guard<std::mutex> lock(mu);
        if (!out.ok() || !out->status.ok()) {
          ++failed;
        } else {
          if (!(*lookup)->FindBySerial(t.IssuingName(), out->serial).ok()) ++not_stored;
          serials.insert(out->serial);
        }
        ++answered;
        cv.notify_all();
      });
    }
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return answered == kRequests; });
  }
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(not_stored, 0) << "answered before its certificate was committed";
  EXPECT_EQ(serials.size(), static_cast<size_t>(kRequests));
  EXPECT_EQ(*(*lookup)->CountCertificates(t.IssuingName()), before + kRequests);
}

// ValidityDays: notAfter - notBefore of a DER certificate, in whole days.
int ValidityDays(const Bytes& der) {
  const uint8_t* p = der.data();
  ossl::UniquePtr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  if (cert == nullptr) return -1;
  int days = 0, secs = 0;
  if (ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert.get()), X509_get0_notAfter(cert.get())) != 1) return -1;
  return days;
}

// Use (a profile reload on SIGHUP, a rollover) while submitters are busy:
// every request is answered, each under one whole configuration, and once
// Use returned the next batch has the new one.
TEST(IssueQueueConcurrentTest, UseSwitchesTheConfigurationBetweenBatches) {
  auto made = TestCa::Create();
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  TestCa& t = **made;
  auto db = t.Connect();
  ASSERT_TRUE(db.ok());
  ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(crypto::LibCtx(), nullptr, "EC", "P-256"));
  auto with_days = [&](uint32_t days) {
    auto cfg = std::make_shared<CaConfig>(t.ca().config());
    cfg->profiles.at("device").days = days;
    return IssueQueue::Setup{cfg, t.IssuingName(), &t.IssuingKey(), t.Issuing()};
  };
  IssueQueue queue(t.ca().config(), t.IssuingName(), t.IssuingKey(), t.Issuing(), **db, "unit-test", 2);
  constexpr int kThreads = 3, kPerThread = 6;
  std::atomic<int> wrong{0}, failed{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < kPerThread; ++i) {
        auto out = queue.Submit(IssueItem{"u", MakeCsr("u" + std::to_string(th) + "-" + std::to_string(i), key.get()), ""},
                                "device");
        if (!out.ok() || !out->status.ok()) {
          ++failed;
          continue;
        }
        int days = ValidityDays(out->der);
        if (days != 10 && days != 20 && days != static_cast<int>(t.ca().config().profiles.at("device").days)) ++wrong;
      }
    });
  }
  for (uint32_t days : {10u, 20u, 10u, 20u}) {
    queue.Use(with_days(days));
    std::this_thread::yield();
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(wrong.load(), 0) << "a certificate under no configuration that was in use";
  queue.Use(with_days(10));
  auto out = queue.Submit(IssueItem{"last", MakeCsr("last", key.get()), ""}, "device");
  ASSERT_TRUE(out.ok() && out->status.ok());
  EXPECT_EQ(ValidityDays(out->der), 10);
}

}  // namespace
}  // namespace certvault::ca
