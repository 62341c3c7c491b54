// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The CA audit chain against tampering (issue 15, "Proof"): 1,000 random
// edits, deletions, insertions, reorderings, truncations and checkpoint
// forgeries of a small chain, each made inside a transaction that is rolled
// back after VerifyAuditChain ran, so the run stays in-process and fast.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <stdlib.h>

#include <filesystem>
#include <random>

#include "ca/audit/audit_checkpointer.h"
#include "ca/audit/audit_verify.h"
#include "ca/db/audit_chain.h"
#include "ca/db/migrations/migrations.h"
#include "ca/db/sql_cert_db.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::ca {
namespace {

class AuditTamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cv-audit-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto conn = OpenSqlite(dir_ + "/ca.db", true);
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE(Migrate(**conn, true, "test").ok());
    conn_ = conn->get();
    db_ = std::make_unique<SqlCertDb>(std::move(*conn));
    key_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    ASSERT_NE(key_, nullptr);
    EVP_PKEY* k = key_.get();
    checkpointer_ = std::make_unique<AuditCheckpointer>(
        *db_, "t", "t-audit",
        [k](std::span<const uint8_t> msg) -> Result<Bytes> {
          ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
          size_t len = 0;
          if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, k) != 1 ||
              EVP_DigestSign(ctx.get(), nullptr, &len, msg.data(), msg.size()) != 1) {
            return InternalError("sign");
          }
          Bytes sig(len);
          if (EVP_DigestSign(ctx.get(), sig.data(), &len, msg.data(), msg.size()) != 1) return InternalError("sign");
          sig.resize(len);
          return sig;
        },
        8, 3600, /*to_syslog=*/false);
    AuditCheckpointer* cp = checkpointer_.get();
    db_->SetAppendObserver([cp](int64_t seq, const Bytes& h) { cp->OnAppend(seq, h); });
    Fill();
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Fill() {
    std::vector<CertRecord> recs;
    for (int i = 0; i < 24; ++i) {
      char serial[8];
      std::snprintf(serial, sizeof(serial), "%02x%02x", i, i * 7 % 256);
      recs.push_back({"t-issuing", serial, "/CN=d" + std::to_string(i), "device", 1, 2000000000, Bytes{1, 2, 3}});
    }
    std::vector<bool> inserted;
    AuditActor actor{"alice"};
    actor.role = "operator";
    actor.source = "192.0.2.1";
    actor.request_id = "r1";
    std::vector<AuditEvent> refused = {MakeAuditEvent(actor, "refuse", "t-issuing", "x.csr", "bad", "kInvalidArgument")};
    ASSERT_TRUE(db_->InsertCertificates(recs, actor, inserted, refused).ok());
    for (int i = 0; i < 4; ++i) {
      Revocation r{recs[i].serial, 1, 0};
      ASSERT_TRUE(db_->Revoke("t-issuing", std::span<const Revocation>(&r, 1), 1700000000 + i, actor).ok());
    }
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(db_->AddAudit(MakeAuditEvent(actor, "config", "t", "ca.toml", "x")).ok());
    ASSERT_TRUE(checkpointer_->Flush().ok());
    auto state = db_->ReadAuditState();
    ASSERT_TRUE(state.ok());
    n_ = state->head_seq;
  }

  AuditVerifyReport Verify() {
    AuditVerifyOptions o;
    o.db_name = "t";
    o.audit_key = key_.get();
    auto r = VerifyAuditChain(*db_, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : AuditVerifyReport{};
  }

  void Exec(const std::string& sql) { ASSERT_TRUE(conn_->Exec(sql).ok()) << sql; }
  std::string S(int64_t v) { return std::to_string(v); }

  // Mutate: one random change; returns its description.
  std::string Mutate(std::mt19937& rng) {
    auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    static const char* kCols[] = {"actor", "action", "ca", "object", "detail", "role", "source", "request_id", "result"};
    int64_t k = pick(1, n_);
    switch (pick(0, 6)) {
      case 0: {
        std::string col = kCols[pick(0, 8)];
        Exec("UPDATE audit_events SET " + col + " = " + col + " || 'x' WHERE seq = " + S(k));
        return "edit " + col + " of " + S(k);
      }
      case 1:
        Exec("UPDATE audit_events SET at = at + " + S(pick(1, 1000)) + " WHERE seq = " + S(k));
        return "edit time of " + S(k);
      case 2:
        Exec("DELETE FROM audit_events WHERE seq = " + S(k));
        return "delete " + S(k);
      case 3: {
        int64_t j = pick(1, n_);
        Exec("UPDATE audit_events SET seq = -seq WHERE seq >= " + S(k));
        Exec("UPDATE audit_events SET seq = 1 - seq WHERE seq < 0");
        Exec("INSERT INTO audit_events (at, actor, action, ca, object, detail, role, source, request_id, result, seq, "
             "prev_hash, hash) SELECT at, actor, action, ca, object, detail, role, source, request_id, result, " +
             S(k) + ", prev_hash, hash FROM audit_events WHERE seq = " + S(j < k ? j : j + 1));
        return "insert a copy of " + S(j) + " at " + S(k);
      }
      case 4: {
        int64_t m = k == n_ ? 1 : k + pick(1, n_ - k);
        Exec("UPDATE audit_events SET seq = -1 WHERE seq = " + S(k));
        Exec("UPDATE audit_events SET seq = " + S(k) + " WHERE seq = " + S(m));
        Exec("UPDATE audit_events SET seq = " + S(m) + " WHERE seq = -1");
        return "swap " + S(k) + " and " + S(m);
      }
      case 5: {
        int64_t keep = pick(0, n_ - 1);
        Exec("DELETE FROM audit_events WHERE seq > " + S(keep));
        if (pick(0, 1) == 1) {
          Exec("UPDATE audit_head SET seq = " + S(keep) + ", hash = COALESCE((SELECT hash FROM audit_events WHERE seq = " +
               S(keep) + "), hash) WHERE id = 1");
        }
        return "truncate after " + S(keep);
      }
      default: {
        bool sig = pick(0, 1) == 1;
        Exec(std::string("UPDATE audit_checkpoints SET ") + (sig ? "signature = randomblob(70)" : "hash = randomblob(32)") +
             " WHERE seq = (SELECT seq FROM audit_checkpoints ORDER BY seq LIMIT 1 OFFSET " + S(pick(0, 2)) + ")");
        return std::string("forge checkpoint ") + (sig ? "signature" : "hash");
      }
    }
  }

  std::string dir_;
  SqlConnection* conn_ = nullptr;
  std::unique_ptr<SqlCertDb> db_;
  ossl::UniquePtr<EVP_PKEY> key_;
  std::unique_ptr<AuditCheckpointer> checkpointer_;
  int64_t n_ = 0;
};

TEST_F(AuditTamperTest, UntouchedChainVerifiesWithActorFields) {
  AuditVerifyReport r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.records, n_);
  EXPECT_GE(r.checkpoints, 3);  // after the 25-record commit, 8 records later, at Flush
  EXPECT_EQ(r.revocations.size(), 4u);
  std::vector<AuditEvent> got;
  ASSERT_TRUE(db_->ReadAuditChain(1, 0, [&](const AuditEvent& e) {
    got.push_back(e);
    return OkStatus();
  }).ok());
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0].role, "operator");
  EXPECT_EQ(got[0].source, "192.0.2.1");
  EXPECT_EQ(got[0].request_id, "r1");
  EXPECT_EQ(got.back().seq, n_);
}

TEST_F(AuditTamperTest, ThousandRandomTamperingsAreAllDetected) {
  std::mt19937 rng(15);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(conn_->Begin().ok());
    std::string what = Mutate(rng);
    AuditVerifyReport r = Verify();
    conn_->Rollback();
    ASSERT_FALSE(r.ok) << "undetected #" << i << ": " << what;
  }
  EXPECT_TRUE(Verify().ok);
}

TEST_F(AuditTamperTest, RevocationRowsMustMatchTheChain) {
  AuditVerifyReport r = Verify();
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(CheckRevocationsAgainstAudit(*db_, "t-issuing", r).ok());
  ASSERT_TRUE(conn_->Begin().ok());
  Exec("DELETE FROM revocations WHERE id = 1");
  Status st = CheckRevocationsAgainstAudit(*db_, "t-issuing", r);
  conn_->Rollback();
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("missing from the revocations table"), std::string_view::npos) << st.ToString();
}

TEST_F(AuditTamperTest, CheckpointLineRoundTrips) {
  auto cps = db_->ListCheckpoints();
  ASSERT_TRUE(cps.ok() && !cps->empty());
  std::string db;
  auto back = ParseCheckpointLine("Dec 7 certvault-ca[1]: certvault-ca audit checkpoint " +
                                      CheckpointLine("t", cps->back()), &db);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(db, "t");
  EXPECT_EQ(back->hash, cps->back().hash);
  EXPECT_TRUE(VerifyCheckpointSignature(key_.get(), "t", *back).ok());
  EXPECT_FALSE(ParseCheckpointLine("ca=t seq=x at=1 hash=00 key=k sig=00").ok());
}

}  // namespace
}  // namespace certvault::ca
