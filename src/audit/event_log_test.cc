// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/audit/event_log.h"

#include <gtest/gtest.h>

#include "src/audit/event_chain.h"
#include "src/audit/log_test_util.h"
#include "src/audit/verify.h"

namespace certvault::audit {
namespace {

using storage::testing::MustOpen;
using testing::BuildSignedLog;
using testing::NewKey;
using testing::TempDir;
using testing::TestEvent;
using testing::TestTokenKey;

class EventLogTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = MustOpen(dir_.File("vault.db")); }
  VerifyReport Verify(const VerifyOptions& options = {}) {
    Result<VerifyReport> r = VerifyLog(*store_, 1, options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : VerifyReport{};
  }
  TempDir dir_;
  std::unique_ptr<storage::Store> store_;
};

TEST_F(EventLogTest, AppendChainsRecords) {
  Actor actor = SelfActor();
  EXPECT_GT(actor.pid, 0);
  EXPECT_FALSE(actor.exe.empty());
  Result<storage::EventRow> a = AppendEvent(*store_, 1, actor, TestEvent(1), nullptr);
  Result<storage::EventRow> b = AppendEvent(*store_, 1, actor, TestEvent(2), nullptr);
  Result<storage::EventRow> other = AppendEvent(*store_, 2, actor, TestEvent(3), nullptr);
  ASSERT_TRUE(a.ok() && b.ok() && other.ok());
  EXPECT_EQ(a->seq, 1u);
  EXPECT_EQ(b->seq, 2u);
  EXPECT_EQ(other->seq, 1u);  // one chain per token
  EXPECT_EQ(a->prev_hash, *GenesisHash(1));
  EXPECT_EQ(b->prev_hash, a->hash);
  EXPECT_EQ(*EventHash(*b), b->hash);
  EXPECT_TRUE(store_->ListCheckpoints(1)->empty());  // no key: nothing signed
  VerifyReport r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.records, 2u);
  EXPECT_EQ(r.last_signed_seq, 0u);
}

TEST_F(EventLogTest, EveryFieldIsHashed) {
  storage::EventRow row;
  row.token_id = 1;
  row.seq = 1;
  row.prev_hash = Bytes(32, 0);
  Bytes base = *EventHash(row);
  std::vector<std::function<void(storage::EventRow&)>> edits = {
      [](auto& r) { r.token_id = 2; },
      [](auto& r) { r.seq = 2; },
      [](auto& r) { r.time_ms = 1; },
      [](auto& r) { r.role = "so"; },
      [](auto& r) { r.mode = "daemon"; },
      [](auto& r) { r.peer_uid = 0; },
      [](auto& r) { r.peer_pid = 0; },
      [](auto& r) { r.peer_exe = "x"; },
      [](auto& r) { r.action = "x"; },
      [](auto& r) { r.target_id = 1; },
      [](auto& r) { r.target_label = "x"; },
      [](auto& r) { r.result = "x"; },
      [](auto& r) { r.detail = "x"; },
      [](auto& r) { r.prev_hash[0] = 1; },
      // length prefixes: moving a byte from one field to the next changes the hash
      [](auto& r) {
        r.role = "a";
        r.mode = "";
      },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    storage::EventRow edited = row;
    edits[i](edited);
    EXPECT_NE(*EventHash(edited), base) << "field edit " << i;
  }
}

TEST_F(EventLogTest, SignedLogVerifies) {
  BuildSignedLog(*store_, 20);
  VerifyReport r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.records, 20u);
  EXPECT_EQ(r.checkpoints, 20u);
  EXPECT_EQ(r.last_signed_seq, 20u);
  ASSERT_EQ(r.key_fingerprints.size(), 2u);
  VerifyOptions pinned;
  pinned.trusted_key = r.key_fingerprints[0];
  EXPECT_TRUE(Verify(pinned).ok);
  pinned.trusted_key = std::string(64, '0');
  VerifyReport bad = Verify(pinned);
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.problem.find("not one of this log's keys"), std::string::npos) << bad.problem;
}

TEST_F(EventLogTest, OnlyTheNewestKeySigns) {
  std::unique_ptr<AuditSigner> k1 = NewKey(*store_, 1, TestTokenKey(1));
  std::unique_ptr<AuditSigner> k2 = NewKey(*store_, 2, TestTokenKey(1));
  ASSERT_TRUE(AppendEvent(*store_, 1, SelfActor(), TestEvent(1), k1.get()).ok());
  EXPECT_TRUE(store_->ListCheckpoints(1)->empty());
  ASSERT_TRUE(AppendEvent(*store_, 1, SelfActor(), TestEvent(2), k2.get()).ok());
  EXPECT_EQ(store_->ListCheckpoints(1)->size(), 1u);
}

TEST_F(EventLogTest, SignerOpensOnlyWithItsTokenKeyAndRow) {
  storage::AuditKeyRow row;
  Result<std::unique_ptr<AuditSigner>> created = AuditSigner::Create(1, 1, TestTokenKey(1), &row);
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(AuditSigner::Open(row, TestTokenKey(1)).ok());
  EXPECT_EQ(AuditSigner::Open(row, TestTokenKey(2)).status().reason(), Reason::kCorruptStore);
  storage::AuditKeyRow other;
  ASSERT_TRUE(AuditSigner::Create(1, 1, TestTokenKey(1), &other).ok());
  storage::AuditKeyRow swapped = row;
  swapped.public_key = other.public_key;  // an attacker's public key beside our sealed private key
  EXPECT_EQ(AuditSigner::Open(swapped, TestTokenKey(1)).status().reason(), Reason::kCorruptStore);
  storage::AuditKeyRow moved = row;
  moved.token_id = 2;
  EXPECT_EQ(AuditSigner::Open(moved, TestTokenKey(1)).status().reason(), Reason::kCorruptStore);
  Bytes msg = ToBytes("m");
  Bytes sig = *(*created)->Sign(msg);
  EXPECT_TRUE(VerifyAuditSignature(row.public_key, msg, sig));
  sig[0] ^= 1;
  EXPECT_FALSE(VerifyAuditSignature(row.public_key, msg, sig));
  EXPECT_FALSE(VerifyAuditSignature(Bytes{1, 2, 3}, msg, sig));
}

TEST_F(EventLogTest, ForgedCheckpointIsReported) {
  // Record 1 is not yet signed (written before any login); an attacker's
  // own key signs a checkpoint over it under number 1.
  std::unique_ptr<AuditSigner> k1 = NewKey(*store_, 1, TestTokenKey(1));
  Result<storage::EventRow> e1 = AppendEvent(*store_, 1, SelfActor(), TestEvent(1), nullptr);
  ASSERT_TRUE(e1.ok());
  storage::AuditKeyRow row;
  std::unique_ptr<AuditSigner> rogue = *AuditSigner::Create(1, 1, TestTokenKey(9), &row);
  storage::CheckpointRow forged{1, 1, e1->time_ms, 1, e1->hash, {}};
  forged.signature = *rogue->Sign(CheckpointMessage(forged));
  ASSERT_TRUE(store_->InsertCheckpoint(forged).ok());
  VerifyReport r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 1u);
  EXPECT_NE(r.problem.find("forged"), std::string::npos) << r.problem;
}

TEST_F(EventLogTest, UnannouncedKeyIsReported) {
  std::unique_ptr<AuditSigner> k1 = NewKey(*store_, 1, TestTokenKey(1));
  ASSERT_TRUE(AppendEvent(*store_, 1, SelfActor(), TestEvent(1), k1.get()).ok());
  // Key 2 added without a rollover record signed by key 1.
  std::unique_ptr<AuditSigner> k2 = NewKey(*store_, 2, TestTokenKey(7));
  ASSERT_TRUE(AppendEvent(*store_, 1, SelfActor(), TestEvent(2), k2.get()).ok());
  VerifyReport r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.problem.find("not announced"), std::string::npos) << r.problem;
}

TEST_F(EventLogTest, OldKeyCannotSignAfterTheRollover) {
  BuildSignedLog(*store_, 10);  // rollover at record 5
  // The old key (an old copy of the file and the old SO PIN) signs record 8.
  std::unique_ptr<AuditSigner> old = *AuditSigner::Open(store_->ListAuditKeys(1)->front(), TestTokenKey(1));
  TempDir dir2;
  std::unique_ptr<storage::Store> s2 = MustOpen(dir2.File("vault.db"));
  // Rebuild the same situation in a copy without the legitimate checkpoint 8.
  std::vector<storage::EventRow> events;
  ASSERT_TRUE(store_
                  ->ForEachEvent(1,
                                 [&](const storage::EventRow& e) {
                                   events.push_back(e);
                                   return OkStatus();
                                 })
                  .ok());
  for (const auto& e : events) ASSERT_TRUE(s2->InsertEvent(e).ok());
  std::vector<storage::AuditKeyRow> keys = *store_->ListAuditKeys(1);
  std::vector<storage::CheckpointRow> cps = *store_->ListCheckpoints(1);
  for (const auto& k : keys) ASSERT_TRUE(s2->InsertAuditKey(k).ok());
  for (const auto& cp : cps) {
    if (cp.seq != 8) {
      ASSERT_TRUE(s2->InsertCheckpoint(cp).ok());
    }
  }
  ASSERT_TRUE(VerifyLog(*s2, 1, {})->ok);
  storage::CheckpointRow cp{1, 8, events[7].time_ms, 1, events[7].hash, {}};
  cp.signature = *old->Sign(CheckpointMessage(cp));
  ASSERT_TRUE(s2->InsertCheckpoint(cp).ok());
  VerifyReport r = *VerifyLog(*s2, 1, {});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 8u);
  EXPECT_NE(r.problem.find("not valid at that record"), std::string::npos) << r.problem;
}

TEST_F(EventLogTest, ExpectedCheckpointCatchesATruncationWithItsCheckpoints) {
  BuildSignedLog(*store_, 6);
  VerifyReport before = Verify();
  VerifyOptions expect;
  expect.expect_seq = before.last_signed_seq;
  expect.expect_head = before.last_signed_head;
  EXPECT_TRUE(Verify(expect).ok);
  expect.expect_seq = 7;
  VerifyReport after = Verify(expect);
  EXPECT_FALSE(after.ok);
  EXPECT_NE(after.problem.find("truncated"), std::string::npos) << after.problem;
}

}  // namespace
}  // namespace certvault::audit
