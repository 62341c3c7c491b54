// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Store tests across threads and processes, crash (kill -9) durability,
// damaged files, schema versions, and a manual lookup benchmark.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "src/storage/sqlite_store.h"
#include "src/storage/store.h"
#include "src/storage/store_test_util.h"

namespace certvault::storage {
namespace {

using testing::Auth;
using testing::MustOpen;
using testing::Object;
using testing::TempDir;
using testing::Token;

constexpr uint64_t kCert = 1;
constexpr size_t kPageSize = 4096;  // SQLite's default

Status OpenStatus(const std::string& path) {
  StoreOptions options;
  Result<std::unique_ptr<Store>> store = OpenStore(path, options);
  return store.ok() ? OkStatus() : store.status();
}

void WriteFile(const std::string& path, const Bytes& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

Bytes ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void RawSql(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

// MakeVault: a closed vault (WAL checkpointed into the main file) holding
// `n` objects in token 1.
void MakeVault(const std::string& path, int n) {
  std::unique_ptr<Store> store = MustOpen(path);
  ASSERT_TRUE(store->CreateToken(Token(1), {Auth(1, Role::kUser)}).ok());
  std::vector<ObjectRow> rows;
  for (int i = 1; i <= n; ++i) {
    ObjectRow row = Object(static_cast<ObjectId>(i), 1, kCert, "label-" + std::to_string(i));
    row.record.assign(200, static_cast<uint8_t>(i));
    rows.push_back(std::move(row));
  }
  ASSERT_TRUE(store->InsertObjects(rows).ok());
}

// ExpectDetected: a damaged vault is refused at open, or else the integrity
// check or a full read reports kCorruptStore; nothing crashes.
void ExpectDetected(const std::string& path) {
  StoreOptions options;
  Result<std::unique_ptr<Store>> store = OpenStore(path, options);
  if (!store.ok()) {
    EXPECT_EQ(store.status().code(), StatusCode::kDataLoss) << store.status().ToString();
    EXPECT_EQ(store.status().reason(), Reason::kCorruptStore);
    return;
  }
  Status integrity = (*store)->CheckIntegrity();
  EXPECT_EQ(integrity.code(), StatusCode::kDataLoss) << integrity.ToString();
  EXPECT_EQ(integrity.reason(), Reason::kCorruptStore);
  EXPECT_FALSE(integrity.message().empty());
  (void)(*store)->FindObjects({.token_id = 1, .include_private = true});  // must not crash
}

TEST(StoreDamageTest, RandomBytes) {
  TempDir dir;
  Bytes junk(8192);
  std::mt19937 rng(1);
  for (uint8_t& b : junk) b = static_cast<uint8_t>(rng());
  WriteFile(dir.File("junk.db"), junk);
  Status s = OpenStatus(dir.File("junk.db"));
  EXPECT_EQ(s.reason(), Reason::kCorruptStore) << s.ToString();
  EXPECT_NE(s.message().find("not a SQLite database"), std::string_view::npos) << s.ToString();
}

TEST(StoreDamageTest, ShortFileWithMagic) {
  TempDir dir;
  Bytes data = ToBytes(std::string_view("SQLite format 3\0 and then nothing", 33));
  WriteFile(dir.File("short.db"), data);
  EXPECT_EQ(OpenStatus(dir.File("short.db")).reason(), Reason::kCorruptStore);
}

TEST(StoreDamageTest, EmptyFileWithoutCreate) {
  TempDir dir;
  WriteFile(dir.File("empty.db"), {});
  EXPECT_EQ(OpenStatus(dir.File("empty.db")).reason(), Reason::kCorruptStore);
}

TEST(StoreDamageTest, ForeignSqliteDatabase) {
  TempDir dir;
  RawSql(dir.File("other.db"), "CREATE TABLE foo(x); INSERT INTO foo VALUES (1);");
  Status s = OpenStatus(dir.File("other.db"));
  EXPECT_EQ(s.reason(), Reason::kCorruptStore);
  EXPECT_NE(s.message().find("not a certvault database"), std::string_view::npos) << s.ToString();
}

TEST(StoreDamageTest, NewerSchemaIsRefused) {
  TempDir dir;
  MakeVault(dir.File("vault.db"), 1);
  RawSql(dir.File("vault.db"), "UPDATE meta SET value = 99 WHERE key = 'schema_version'");
  Status s = OpenStatus(dir.File("vault.db"));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.reason(), Reason::kTokenNotRecognized);
  EXPECT_NE(s.message().find("newer"), std::string_view::npos) << s.ToString();
}

TEST(StoreDamageTest, TruncatedDatabase) {
  TempDir dir;
  MakeVault(dir.File("vault.db"), 2000);
  Bytes data = ReadFile(dir.File("vault.db"));
  ASSERT_GT(data.size(), 20 * kPageSize);
  for (size_t keep : {data.size() / 2, 2 * kPageSize, kPageSize + 100}) {
    SCOPED_TRACE(keep);
    WriteFile(dir.File("cut.db"), Bytes(data.begin(), data.begin() + static_cast<ptrdiff_t>(keep)));
    ExpectDetected(dir.File("cut.db"));
  }
}

TEST(StoreDamageTest, FlippedPageHeaders) {
  TempDir dir;
  MakeVault(dir.File("vault.db"), 2000);
  Bytes data = ReadFile(dir.File("vault.db"));
  size_t pages = data.size() / kPageSize;
  for (size_t page : {size_t{1}, size_t{2}, pages / 2, pages - 1}) {
    SCOPED_TRACE(page);
    Bytes bad = data;
    for (size_t i = 0; i < 8; ++i) bad[page * kPageSize + i] ^= 0xa5;  // b-tree page header
    WriteFile(dir.File("flip.db"), bad);
    ExpectDetected(dir.File("flip.db"));
  }
}

TEST(StoreDamageTest, FlippedFileHeader) {
  TempDir dir;
  MakeVault(dir.File("vault.db"), 10);
  Bytes data = ReadFile(dir.File("vault.db"));
  data[3] ^= 0x20;  // "SQLite format 3" magic
  WriteFile(dir.File("flip.db"), data);
  EXPECT_EQ(OpenStatus(dir.File("flip.db")).reason(), Reason::kCorruptStore);
}

TEST(StoreDamageTest, MissingSchemaVersion) {
  TempDir dir;
  MakeVault(dir.File("vault.db"), 1);
  RawSql(dir.File("vault.db"), "DELETE FROM meta WHERE key = 'schema_version'");
  Status s = OpenStatus(dir.File("vault.db"));
  EXPECT_EQ(s.reason(), Reason::kCorruptStore);
  EXPECT_NE(s.message().find("schema_version"), std::string_view::npos) << s.ToString();
}

// A schema-version-1 file (as written by builds before the token integrity
// state) is migrated on open: its tokens get an empty integrity state, and
// its objects are kept.
TEST(StoreMigrationTest, Version1FileGetsTheIntegrityColumn) {
  TempDir dir;
  RawSql(dir.File("vault.db"), R"sql(
    CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value);
    CREATE TABLE tokens(token_id INTEGER PRIMARY KEY, label TEXT NOT NULL, serial TEXT NOT NULL,
      flags INTEGER NOT NULL, capacity INTEGER NOT NULL, policy BLOB NOT NULL, created_unix INTEGER NOT NULL);
    CREATE TABLE auth(token_id INTEGER NOT NULL REFERENCES tokens(token_id) ON DELETE CASCADE,
      role INTEGER NOT NULL, kdf BLOB NOT NULL, wrapped_key BLOB NOT NULL, tries_left INTEGER NOT NULL,
      max_tries INTEGER NOT NULL, flags INTEGER NOT NULL, PRIMARY KEY(token_id, role)) WITHOUT ROWID;
    CREATE TABLE objects(object_id INTEGER PRIMARY KEY,
      token_id INTEGER NOT NULL REFERENCES tokens(token_id) ON DELETE CASCADE,
      class INTEGER NOT NULL, label BLOB NOT NULL, ckid BLOB NOT NULL,
      is_private INTEGER NOT NULL, version INTEGER NOT NULL, record BLOB NOT NULL);
    INSERT INTO meta VALUES ('schema_version', 1);
    INSERT INTO tokens VALUES (1, 'old', '0011', 0, 0, x'', 1700000000);
    INSERT INTO objects VALUES (5, 1, 1, x'61', x'', 0, 3, x'435652010000000000');
  )sql");
  std::unique_ptr<Store> store = MustOpen(dir.File("vault.db"), /*create=*/false);
  ASSERT_NE(store, nullptr);
  Result<TokenRow> token = store->GetToken(1);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(token->label, "old");
  EXPECT_TRUE(token->integrity.empty());
  EXPECT_EQ(*store->GetObjectVersion(5), 3u);
  token->integrity = {1, 2, 3};
  ASSERT_TRUE(store->UpdateToken(*token).ok());
  EXPECT_EQ(store->GetToken(1)->integrity, Bytes({1, 2, 3}));
}

TEST(StoreMigrationTest, Version2FileGetsTheEventLog) {
  TempDir dir;
  RawSql(dir.File("vault.db"), R"sql(
    CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value);
    CREATE TABLE tokens(token_id INTEGER PRIMARY KEY, label TEXT NOT NULL, serial TEXT NOT NULL,
      flags INTEGER NOT NULL, capacity INTEGER NOT NULL, policy BLOB NOT NULL, created_unix INTEGER NOT NULL,
      integrity BLOB NOT NULL DEFAULT x'');
    CREATE TABLE auth(token_id INTEGER NOT NULL REFERENCES tokens(token_id) ON DELETE CASCADE,
      role INTEGER NOT NULL, kdf BLOB NOT NULL, wrapped_key BLOB NOT NULL, tries_left INTEGER NOT NULL,
      max_tries INTEGER NOT NULL, flags INTEGER NOT NULL, PRIMARY KEY(token_id, role)) WITHOUT ROWID;
    CREATE TABLE objects(object_id INTEGER PRIMARY KEY,
      token_id INTEGER NOT NULL REFERENCES tokens(token_id) ON DELETE CASCADE,
      class INTEGER NOT NULL, label BLOB NOT NULL, ckid BLOB NOT NULL,
      is_private INTEGER NOT NULL, version INTEGER NOT NULL, record BLOB NOT NULL);
    INSERT INTO meta VALUES ('schema_version', 2);
    INSERT INTO tokens VALUES (1, 'old', '0011', 0, 0, x'', 1700000000, x'0102');
  )sql");
  std::unique_ptr<Store> store = MustOpen(dir.File("vault.db"), /*create=*/false);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->GetToken(1)->integrity, Bytes({1, 2}));
  EXPECT_EQ(store->LastEvent(1).status().code(), StatusCode::kNotFound);
  EventRow e;
  e.token_id = 1;
  e.seq = 1;
  e.action = "login";
  e.hash = Bytes(32, 7);
  ASSERT_TRUE(store->InsertEvent(e).ok());
  EXPECT_EQ(store->InsertEvent(e).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store->LastEvent(1)->hash, Bytes(32, 7));
  ASSERT_TRUE(store->InsertAuditKey(AuditKeyRow{1, 1, {1}, {2}, 5}).ok());
  ASSERT_TRUE(store->InsertCheckpoint(CheckpointRow{1, 1, 5, 1, Bytes(32, 7), {9}}).ok());
  EXPECT_EQ(store->ListAuditKeys(1)->size(), 1u);
  EXPECT_EQ(store->ListCheckpoints(1)->front().signature, Bytes({9}));
  // The log is not the token's: re-creating the token keeps it.
  ASSERT_TRUE(store->CreateToken(Token(1), {}).ok());
  EXPECT_TRUE(store->LastEvent(1).ok());
}

TEST(StoreObjectsTest, ForEachObjectVisitsOneTokenInIdOrder) {
  TempDir dir;
  std::unique_ptr<Store> store = MustOpen(dir.File("vault.db"));
  ASSERT_TRUE(store->CreateToken(Token(1), {}).ok());
  ASSERT_TRUE(store->CreateToken(Token(2), {}).ok());
  ASSERT_TRUE(store->InsertObjects({Object(30, 1, 1, "c"), Object(10, 1, 1, "a"), Object(20, 2, 1, "b")}).ok());
  std::vector<ObjectId> seen;
  ASSERT_TRUE(store->ForEachObject(1, [&](const ObjectRow& row) {
    EXPECT_EQ(row.token_id, 1u);
    EXPECT_EQ(row.version, 1u);
    seen.push_back(row.object_id);
    return OkStatus();
  }).ok());
  EXPECT_EQ(seen, (std::vector<ObjectId>{10, 30}));
  Status stop = store->ForEachObject(1, [](const ObjectRow&) { return Status(Reason::kCorruptStore, "stop"); });
  EXPECT_EQ(stop.reason(), Reason::kCorruptStore);
}

// LockHolder: a foreign connection holding the write lock until released.
class LockHolder {
 public:
  explicit LockHolder(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  ~LockHolder() { Release(); }
  LockHolder(const LockHolder&) = delete;
  LockHolder& operator=(const LockHolder&) = delete;
  void Release() {
    if (db_ == nullptr) return;
    sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
    db_ = nullptr;
  }

 private:
  sqlite3* db_ = nullptr;
};

TEST(StoreLockTest, WriterWaitsForTheLock) {
  TempDir dir;
  MakeVault(dir.File("vault.db"), 0);
  StoreOptions options;
  options.busy_timeout_ms = 20;  // shorter than the hold: the retries must cover the rest
  Result<std::unique_ptr<Store>> store = OpenStore(dir.File("vault.db"), options);
  ASSERT_TRUE(store.ok());
  LockHolder holder(dir.File("vault.db"));
  std::thread releaser([&] {
    // Five busy timeouts: longer than one (so the retries are what waits), and
    // far inside the retries' ~1.3 s (kMaxBeginRetries), so a slow sanitizer
    // build that wakes this thread late still releases in time.
    std::this_thread::sleep_for(std::chrono::milliseconds(5 * options.busy_timeout_ms));
    holder.Release();
  });
  Status s = (*store)->InsertObject(Object(1, 1, kCert, "waited"));
  releaser.join();
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE((*store)->GetObject(1).ok());  // readers were never blocked either
}

TEST(StoreLockTest, LockHeldForeverIsUnavailableNotACrash) {
  TempDir dir;
  MakeVault(dir.File("vault.db"), 1);
  StoreOptions options;
  options.busy_timeout_ms = 1;
  Result<std::unique_ptr<Store>> store = OpenStore(dir.File("vault.db"), options);
  ASSERT_TRUE(store.ok());
  LockHolder holder(dir.File("vault.db"));
  EXPECT_TRUE((*store)->GetObject(1).ok());  // WAL: reads go on
  Status s = (*store)->InsertObject(Object(2, 1, kCert, "blocked"));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
}

// QueryPlan: the EXPLAIN QUERY PLAN text of `sql` with its parameters unbound.
std::string QueryPlan(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  std::string plan;
  if (sqlite3_prepare_v2(db, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &stmt, nullptr) != SQLITE_OK) return "error";
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
    plan += "\n";
  }
  sqlite3_finalize(stmt);
  return plan;
}

TEST(StoreQueryPlanTest, FindObjectsUsesTheMostSelectiveIndex) {
  TempDir dir;
  MakeVault(dir.File("vault.db"), 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir.File("vault.db").c_str(), &db), SQLITE_OK);
  for (int mask = 0; mask < 16; ++mask) {
    ObjectQuery q{.token_id = 1, .include_private = (mask & 8) != 0};
    if (mask & 1) q.object_class = kCert;
    if (mask & 2) q.label = ToBytes("l");
    if (mask & 4) q.ckid = Bytes{1};
    std::string plan = QueryPlan(db, internal::FindObjectsSql(q));
    SCOPED_TRACE(internal::FindObjectsSql(q) + "\n" + plan);
    EXPECT_EQ(plan.find("SCAN"), std::string::npos);
    const char* index = (mask & 2) ? "objects_token_label" : (mask & 4) ? "objects_token_ckid" : "objects_token_";
    EXPECT_NE(plan.find(index), std::string::npos);
  }
  sqlite3_close(db);
}

TEST(StoreConcurrencyTest, TwoThreadsInsert) {
  TempDir dir;
  std::unique_ptr<Store> store = MustOpen(dir.File("vault.db"));
  ASSERT_TRUE(store->CreateToken(Token(1), {}).ok());
  constexpr int kPerThread = 1000;
  std::vector<Status> failures[2];
  auto worker = [&](int t) {
    for (int i = 0; i < kPerThread; ++i) {
      ObjectId id = static_cast<ObjectId>(t * kPerThread + i + 1);
      Status s = store->InsertObject(Object(id, 1, kCert, "t" + std::to_string(t)));
      if (!s.ok()) failures[t].push_back(s);
      if (!store->GetObject(id).ok()) failures[t].push_back(InternalError("read-back failed"));
    }
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  for (auto& f : failures) EXPECT_TRUE(f.empty()) << f.front().ToString();
  Result<std::vector<ObjectId>> all = store->FindObjects({.token_id = 1});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u * kPerThread);
}

// InsertLoop: child-process body; returns the exit code.
int InsertLoop(const std::string& path, ObjectId first, int count, int report_fd) {
  StoreOptions options;
  Result<std::unique_ptr<Store>> store = OpenStore(path, options);
  if (!store.ok()) return 2;
  for (int i = 0; count < 0 || i < count; ++i) {
    ObjectId id = first + static_cast<ObjectId>(i);
    if (!(*store)->InsertObject(Object(id, 1, kCert, "proc")).ok()) return 3;
    if (report_fd >= 0 && write(report_fd, &id, sizeof(id)) != static_cast<ssize_t>(sizeof(id))) return 4;
  }
  return 0;
}

TEST(StoreConcurrencyTest, TwoProcessesInsert) {
  TempDir dir;
  MakeVault(dir.File("vault.db"), 0);
  constexpr int kPerProcess = 500;
  pid_t pids[2];
  for (int p = 0; p < 2; ++p) {
    pids[p] = fork();
    ASSERT_GE(pids[p], 0);
    if (pids[p] == 0) _exit(InsertLoop(dir.File("vault.db"), 1 + static_cast<ObjectId>(p) * 100000, kPerProcess, -1));
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }
  std::unique_ptr<Store> store = MustOpen(dir.File("vault.db"), false);
  for (int p = 0; p < 2; ++p) {
    for (int i = 0; i < kPerProcess; ++i) {
      ASSERT_TRUE(store->GetObject(1 + static_cast<ObjectId>(p) * 100000 + i).ok()) << p << " " << i;
    }
  }
}

TEST(StoreCrashTest, AcknowledgedWritesSurviveKill9) {
  TempDir dir;
  MakeVault(dir.File("vault.db"), 0);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    _exit(InsertLoop(dir.File("vault.db"), 1000, -1, fds[1]));
  }
  close(fds[1]);
  std::set<ObjectId> acked;
  ObjectId id = 0;
  while (acked.size() < 300 && read(fds[0], &id, sizeof(id)) == static_cast<ssize_t>(sizeof(id))) acked.insert(id);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status)) << "child ended early with status " << status;
  while (read(fds[0], &id, sizeof(id)) == static_cast<ssize_t>(sizeof(id))) acked.insert(id);
  close(fds[0]);
  ASSERT_GE(acked.size(), 300u);
  std::unique_ptr<Store> store = MustOpen(dir.File("vault.db"), false);
  ASSERT_NE(store, nullptr);
  for (ObjectId acked_id : acked) EXPECT_TRUE(store->GetObject(acked_id).ok()) << acked_id;
  EXPECT_TRUE(store->CheckIntegrity().ok());
}

// DecrementLoop: child-process body; reports each value DecrementTries returned.
int DecrementLoop(const std::string& path, int count, int report_fd) {
  StoreOptions options;
  Result<std::unique_ptr<Store>> store = OpenStore(path, options);
  if (!store.ok()) return 2;
  for (int i = 0; i < count; ++i) {
    Result<uint32_t> before = (*store)->DecrementTries(1, Role::kUser);
    if (!before.ok()) return 3;
    if (write(report_fd, &*before, sizeof(uint32_t)) != static_cast<ssize_t>(sizeof(uint32_t))) return 4;
  }
  return 0;
}

TEST(StoreConcurrencyTest, DecrementTriesIsAtomicAcrossProcesses) {
  TempDir dir;
  {
    std::unique_ptr<Store> store = MustOpen(dir.File("vault.db"));
    ASSERT_TRUE(store->CreateToken(Token(1), {Auth(1, Role::kUser, 1000)}).ok());
  }
  constexpr int kPerProcess = 150;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pids[2];
  for (pid_t& pid : pids) {
    pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      _exit(DecrementLoop(dir.File("vault.db"), kPerProcess, fds[1]));
    }
  }
  close(fds[1]);
  std::set<uint32_t> seen;
  uint32_t value = 0;
  while (read(fds[0], &value, sizeof(value)) == static_cast<ssize_t>(sizeof(value))) {
    EXPECT_TRUE(seen.insert(value).second) << "value returned twice: " << value;
  }
  close(fds[0]);
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }
  EXPECT_EQ(seen.size(), 2u * kPerProcess);
  std::unique_ptr<Store> store = MustOpen(dir.File("vault.db"), false);
  EXPECT_EQ(store->GetAuth(1, Role::kUser)->tries_left, 1000u - 2 * kPerProcess);
}

TEST(StoreConcurrencyTest, RunExclusiveMakesCheckThenInsertAtomic) {
  TempDir dir;
  std::unique_ptr<Store> store = MustOpen(dir.File("vault.db"));
  ASSERT_TRUE(store->CreateToken(Token(1), {}).ok());
  constexpr uint64_t kCapacity = 50;
  std::atomic<ObjectId> next_id{1};
  auto worker = [&]() {
    for (int i = 0; i < 100; ++i) {
      (void)store->RunExclusive([&]() -> Status {
        Result<uint64_t> n = store->CountObjects(1, kCert);
        if (!n.ok()) return n.status();
        if (*n >= kCapacity) return Status(Reason::kCapacityExceeded, "full");
        return store->InsertObject(Object(next_id++, 1, kCert, "cap"));
      });
    }
  };
  std::thread a(worker), b(worker), c(worker);
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(*store->CountObjects(1, kCert), kCapacity);
}

// Manual benchmark (no timing assertion): run with
//   storage_test --gtest_also_run_disabled_tests --gtest_filter='*DISABLED_Lookup*'
TEST(StoreBenchmark, DISABLED_LookupWith100kObjects) {
  TempDir dir;
  constexpr int kObjects = 100000;
  MakeVault(dir.File("vault.db"), kObjects);
  std::unique_ptr<Store> store = MustOpen(dir.File("vault.db"), false);
  constexpr int kIterations = 20000;
  auto time_it = [&](const char* name, auto&& op) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kIterations; ++i) ASSERT_TRUE(op(1 + (i * 7919) % kObjects));
    std::chrono::duration<double, std::micro> elapsed = std::chrono::steady_clock::now() - start;
    std::printf("%-28s %8.2f us/op\n", name, elapsed.count() / kIterations);
  };
  time_it("FindObjects(label)", [&](int i) {
    auto r = store->FindObjects({.token_id = 1, .label = ToBytes("label-" + std::to_string(i))});
    return r.ok() && r->size() == 1;
  });
  time_it("FindObjects(class+label)", [&](int i) {
    auto r = store->FindObjects({.token_id = 1, .object_class = kCert, .label = ToBytes("label-" + std::to_string(i))});
    return r.ok() && r->size() == 1;
  });
  time_it("GetObject", [&](int i) { return store->GetObject(static_cast<ObjectId>(i)).ok(); });
  time_it("GetObjectVersion", [&](int i) { return store->GetObjectVersion(static_cast<ObjectId>(i)).ok(); });
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(store->CheckIntegrity().ok());
  std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
  std::printf("%-28s %8.2f ms\n", "CheckIntegrity", elapsed.count());
}

}  // namespace
}  // namespace certvault::storage
