// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The tamper test of issue 15: 1,000 random edits, deletions, insertions,
// reorderings and truncations of a signed event log, each on a fresh copy of
// vault.db, made with SQLite directly as an attacker with write access to
// the file would (naive, and recomputing the hash chain and even the
// checkpoint heads); VerifyLog must report every one.
#include <sqlite3.h>

#include <functional>
#include <random>

#include "src/audit/event_chain.h"
#include "src/audit/log_test_util.h"
#include "src/audit/verify.h"

namespace certvault::audit {
namespace {

using storage::EventRow;
using storage::testing::MustOpen;
using testing::BuildSignedLog;
using testing::TempDir;

constexpr int kRecords = 12;
constexpr int kTrials = 1000;

// Rechain: what an attacker who knows the format does after a change:
// renumber the records and recompute every hash from `from` on.
void Renumber(std::vector<EventRow>& rows) {
  for (size_t i = 0; i < rows.size(); ++i) rows[i].seq = i + 1;
}
void Rechain(std::vector<EventRow>& rows, size_t from) {
  for (size_t i = from; i < rows.size(); ++i) {
    rows[i].prev_hash = i == 0 ? *GenesisHash(1) : rows[i - 1].hash;
    rows[i].hash = *EventHash(rows[i]);
  }
}

void EditField(EventRow& r, int field) {
  switch (field) {
    case 0:
      r.time_ms += 1;
      break;
    case 1:
      r.role = r.role == "so" ? "user" : "so";
      break;
    case 2:
      r.action += "x";
      break;
    case 3:
      r.target_label = "other " + r.target_label;
      break;
    case 4:
      r.result = r.result == "ok" ? "pin_incorrect" : "ok";
      break;
    case 5:
      r.detail += " ";
      break;
    case 6:
      r.peer_uid += 1;
      break;
    case 7:
      r.peer_pid += 1;
      break;
    case 8:
      r.peer_exe += "x";
      break;
    case 9:
      r.target_id += 1;
      break;
    case 10:
      r.mode = r.mode == "daemon" ? "embedded" : "daemon";
      break;
    default:
      r.hash[0] ^= 1;
      break;
  }
}

class Tamperer {
 public:
  Tamperer(std::vector<EventRow> rows, uint32_t seed) : rows_(std::move(rows)), rng_(seed) {}

  // Next: a tampered copy of the rows and what was done; heads_fixed says
  // whether the checkpoint heads must be rewritten to the new hashes.
  std::vector<EventRow> Next(std::string* what, bool* fix_heads) {
    std::vector<EventRow> rows = rows_;
    const size_t n = rows.size();
    const int variant = Pick(3);  // 0 naive, 1 renumber/own hash, 2 full rechain
    *fix_heads = false;
    switch (Pick(6)) {
      case 0: {
        size_t i = Pick(n);
        int field = Pick(12);
        EditField(rows[i], field);
        if (variant == 1 && field != 11) rows[i].hash = *EventHash(rows[i]);
        if (variant == 2 && field != 11) Rechain(rows, i);
        *what = "edit record " + std::to_string(i + 1) + " field " + std::to_string(field);
        break;
      }
      case 1: {
        size_t i = Pick(n);
        rows.erase(rows.begin() + i);
        if (variant >= 1) Renumber(rows);
        if (variant == 2) Rechain(rows, i);
        *what = "delete record " + std::to_string(i + 1);
        break;
      }
      case 2: {
        size_t i = Pick(n);  // before an existing record: a later checkpoint covers it
        EventRow fake = rows[Pick(n)];
        fake.detail = "inserted";
        rows.insert(rows.begin() + i, fake);
        Renumber(rows);
        if (variant == 2) Rechain(rows, i);
        *what = "insert before record " + std::to_string(i + 1);
        break;
      }
      case 3: {
        size_t i = Pick(n), j = Pick(n - 1);
        if (j >= i) ++j;
        std::swap(rows[i], rows[j]);
        Renumber(rows);  // the records move, their numbers stay in place
        if (variant == 2) Rechain(rows, std::min(i, j));
        *what = "swap records " + std::to_string(i + 1) + " and " + std::to_string(j + 1);
        break;
      }
      case 4: {
        size_t keep = Pick(n);
        rows.resize(keep);
        *what = "truncate to " + std::to_string(keep) + " records";
        break;
      }
      default: {  // rechain after an edit and rewrite the checkpoint heads too
        size_t i = Pick(n);
        EditField(rows[i], Pick(11));
        Rechain(rows, i);
        *fix_heads = true;
        *what = "edit record " + std::to_string(i + 1) + ", rechain and re-head the checkpoints";
        break;
      }
    }
    *what += " (variant " + std::to_string(variant) + ")";
    return rows;
  }

 private:
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  std::vector<EventRow> rows_;
  std::mt19937 rng_;
};

void Exec(sqlite3* db, const char* sql) {
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql;
}

void BindRow(sqlite3_stmt* st, const EventRow& r) {
  sqlite3_bind_int64(st, 1, static_cast<int64_t>(r.seq));
  sqlite3_bind_int64(st, 2, r.time_ms);
  sqlite3_bind_text(st, 3, r.role.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, r.mode.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 5, r.peer_uid);
  sqlite3_bind_int64(st, 6, r.peer_pid);
  sqlite3_bind_text(st, 7, r.peer_exe.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 8, r.action.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 9, static_cast<int64_t>(r.target_id));
  sqlite3_bind_text(st, 10, r.target_label.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 11, r.result.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 12, r.detail.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_blob(st, 13, r.prev_hash.data(), static_cast<int>(r.prev_hash.size()), SQLITE_TRANSIENT);
  sqlite3_bind_blob(st, 14, r.hash.data(), static_cast<int>(r.hash.size()), SQLITE_TRANSIENT);
}

// Attacker: a raw SQLite connection to the vault file, as `sqlite3 vault.db`.
class Attacker {
 public:
  explicit Attacker(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    Exec(db_, "PRAGMA synchronous=OFF");  // speed: durability does not matter here
    EXPECT_EQ(sqlite3_prepare_v2(db_,
                                 "INSERT INTO event_log VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                                 "?11, ?12, ?13, ?14)",
                                 -1, &insert_, nullptr),
              SQLITE_OK);
    EXPECT_EQ(sqlite3_prepare_v2(db_, "UPDATE event_checkpoints SET head = ?2 WHERE token_id = 1 AND seq = ?1", -1,
                                 &head_, nullptr),
              SQLITE_OK);
  }
  ~Attacker() {
    sqlite3_finalize(insert_);
    sqlite3_finalize(head_);
    sqlite3_close(db_);
  }

  // Rewrite: replaces the whole event log by `rows`, and the checkpoint heads
  // by `heads` (record i+1's hash in heads[i]), in one transaction.
  void Rewrite(const std::vector<EventRow>& rows, const std::vector<EventRow>& heads) {
    Exec(db_, "BEGIN; DELETE FROM event_log");
    for (const EventRow& r : rows) {
      BindRow(insert_, r);
      EXPECT_EQ(sqlite3_step(insert_), SQLITE_DONE);
      sqlite3_reset(insert_);
    }
    for (const EventRow& r : heads) {
      sqlite3_bind_int64(head_, 1, static_cast<int64_t>(r.seq));
      sqlite3_bind_blob(head_, 2, r.hash.data(), static_cast<int>(r.hash.size()), SQLITE_TRANSIENT);
      EXPECT_EQ(sqlite3_step(head_), SQLITE_DONE);
      sqlite3_reset(head_);
    }
    Exec(db_, "COMMIT");
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* head_ = nullptr;
};

// Each trial starts from a fresh copy of the signed log: the attacker's
// connection rewrites the log table and the checkpoint heads from the
// pristine rows, then applies one random change (one file copy per trial
// would cost ~10 file opens each, seconds on a loaded machine).
TEST(EventLogTamperTest, VerifyDetectsEveryRandomTampering) {
  TempDir dir;
  const std::string path = dir.File("vault.db");
  std::vector<EventRow> rows;
  std::unique_ptr<storage::Store> store = MustOpen(path);
  BuildSignedLog(*store, kRecords);
  ASSERT_TRUE(VerifyLog(*store, 1, {})->ok);
  ASSERT_TRUE(store
                  ->ForEachEvent(1,
                                 [&](const EventRow& e) {
                                   rows.push_back(e);
                                   return OkStatus();
                                 })
                  .ok());
  ASSERT_EQ(rows.size(), static_cast<size_t>(kRecords));
  const uint32_t seed = std::random_device{}();
  Tamperer tamperer(rows, seed);
  Attacker attacker(path);
  for (int trial = 0; trial < kTrials; ++trial) {
    std::string what;
    bool fix_heads = false;
    std::vector<EventRow> tampered = tamperer.Next(&what, &fix_heads);
    attacker.Rewrite(tampered, fix_heads ? tampered : rows);
    Result<VerifyReport> report = VerifyLog(*store, 1, {});
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_FALSE(report->ok) << "not detected: " << what << " (seed " << seed << ", trial " << trial << ")";
    EXPECT_GT(report->first_bad_seq, 0u) << what;
  }
  attacker.Rewrite(rows, rows);  // the pristine copy still verifies
  EXPECT_TRUE(VerifyLog(*store, 1, {})->ok);
}

}  // namespace
}  // namespace certvault::audit
