// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Single-process tests of the SQLite store: CRUD, queries, tries, versions,
// file mode, nesting of RunExclusive.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>

#include "src/storage/store.h"
#include "src/storage/store_test_util.h"

namespace certvault::storage {
namespace {

using testing::Auth;
using testing::MustOpen;
using testing::Object;
using testing::TempDir;
using testing::Token;

constexpr uint64_t kCert = 1;     // CKO_CERTIFICATE
constexpr uint64_t kPublic = 2;   // CKO_PUBLIC_KEY
constexpr uint64_t kPrivate = 3;  // CKO_PRIVATE_KEY

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = MustOpen(dir_.File("vault.db"));
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->CreateToken(Token(1), {Auth(1, Role::kSo), Auth(1, Role::kUser)}).ok());
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST(StoreOpenTest, MissingFileWithoutCreateIsNotFound) {
  TempDir dir;
  StoreOptions options;
  Result<std::unique_ptr<Store>> store = OpenStore(dir.File("none.db"), options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kNotFound);
}

TEST(StoreOpenTest, MissingDirectoryIsNotFound) {
  TempDir dir;
  StoreOptions options;
  options.create_if_missing = true;
  Result<std::unique_ptr<Store>> store = OpenStore(dir.File("no/such/dir.db"), options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kNotFound);
}

TEST(StoreOpenTest, CreatedWithMode0600WhateverTheUmask) {
  TempDir dir;
  mode_t old = umask(0);
  std::unique_ptr<Store> store = MustOpen(dir.File("vault.db"));
  umask(old);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateToken(Token(1), {}).ok());
  for (const char* suffix : {"", "-wal", "-shm"}) {
    struct stat st {};
    ASSERT_EQ(stat(dir.File(std::string("vault.db") + suffix).c_str(), &st), 0) << suffix;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << suffix;
  }
}

TEST(StoreOpenTest, ReopenKeepsData) {
  TempDir dir;
  {
    std::unique_ptr<Store> store = MustOpen(dir.File("vault.db"));
    ASSERT_TRUE(store->CreateToken(Token(7, "seven"), {}).ok());
  }
  std::unique_ptr<Store> store = MustOpen(dir.File("vault.db"), /*create=*/false);
  ASSERT_NE(store, nullptr);
  Result<TokenRow> token = store->GetToken(7);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->label, "seven");
  EXPECT_TRUE(store->CheckIntegrity().ok());
}

TEST_F(StoreTest, TokenCrud) {
  Result<TokenRow> token = store_->GetToken(1);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  TokenRow expected = Token(1);
  EXPECT_EQ(token->label, expected.label);
  EXPECT_EQ(token->serial, expected.serial);
  EXPECT_EQ(token->flags, expected.flags);
  EXPECT_EQ(token->capacity, expected.capacity);
  EXPECT_EQ(token->policy, expected.policy);
  EXPECT_EQ(token->created_unix, expected.created_unix);

  EXPECT_TRUE(token->integrity.empty());

  TokenRow changed = Token(1, "renamed");
  changed.policy = {};
  changed.integrity = {9, 8};
  ASSERT_TRUE(store_->UpdateToken(changed).ok());
  EXPECT_EQ(store_->GetToken(1)->integrity, Bytes({9, 8}));
  EXPECT_EQ(store_->GetToken(1)->label, "renamed");
  EXPECT_TRUE(store_->GetToken(1)->policy.empty());
  EXPECT_EQ(store_->UpdateToken(Token(9)).code(), StatusCode::kNotFound);

  ASSERT_TRUE(store_->CreateToken(Token(2), {}).ok());
  Result<std::vector<TokenRow>> all = store_->ListTokens();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].token_id, 1u);
  EXPECT_EQ((*all)[1].token_id, 2u);

  ASSERT_TRUE(store_->DeleteToken(2).ok());
  EXPECT_EQ(store_->GetToken(2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteToken(2).code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, NextTokenId) {
  EXPECT_EQ(*store_->NextTokenId(), 2u);
  ASSERT_TRUE(store_->CreateToken(Token(5), {}).ok());
  EXPECT_EQ(*store_->NextTokenId(), 6u);
  ASSERT_TRUE(store_->DeleteToken(5).ok());
  ASSERT_TRUE(store_->DeleteToken(1).ok());
  EXPECT_EQ(*store_->NextTokenId(), 1u);
}

TEST_F(StoreTest, CreateTokenReplacesObjectsAndAuth) {
  ASSERT_TRUE(store_->InsertObject(Object(100, 1, kCert, "c")).ok());
  ASSERT_TRUE(store_->CreateToken(Token(1, "fresh"), {Auth(1, Role::kSo)}).ok());
  EXPECT_EQ(store_->GetObject(100).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetAuth(1, Role::kUser).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetAuth(1, Role::kSo).ok());
  EXPECT_EQ(store_->GetToken(1)->label, "fresh");
}

TEST_F(StoreTest, CreateTokenRejectsForeignAuthRow) {
  EXPECT_EQ(store_->CreateToken(Token(3), {Auth(4, Role::kSo)}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetToken(3).status().code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, DeleteTokenCascades) {
  ASSERT_TRUE(store_->InsertObject(Object(100, 1, kCert, "c")).ok());
  ASSERT_TRUE(store_->DeleteToken(1).ok());
  EXPECT_EQ(store_->GetObject(100).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetAuth(1, Role::kSo).status().code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, AuthCrud) {
  Result<AuthRow> so = store_->GetAuth(1, Role::kSo);
  ASSERT_TRUE(so.ok());
  EXPECT_EQ(so->kdf, Bytes({0x10, 0x20}));
  EXPECT_EQ(so->wrapped_key, Bytes({0xaa, 0xbb, 0xcc}));
  EXPECT_EQ(so->tries_left, 3u);
  AuthRow changed = Auth(1, Role::kUser, 10);
  changed.wrapped_key = {9};
  changed.flags = 4;
  ASSERT_TRUE(store_->PutAuth(changed).ok());
  Result<AuthRow> user = store_->GetAuth(1, Role::kUser);
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->wrapped_key, Bytes({9}));
  EXPECT_EQ(user->max_tries, 10u);
  EXPECT_EQ(user->flags, 4u);
  EXPECT_EQ(store_->PutAuth(Auth(42, Role::kSo)).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetAuth(42, Role::kSo).status().code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, DecrementTriesStopsAtZero) {
  EXPECT_EQ(*store_->DecrementTries(1, Role::kUser), 3u);
  EXPECT_EQ(*store_->DecrementTries(1, Role::kUser), 2u);
  EXPECT_EQ(*store_->DecrementTries(1, Role::kUser), 1u);
  EXPECT_EQ(*store_->DecrementTries(1, Role::kUser), 0u);
  EXPECT_EQ(*store_->DecrementTries(1, Role::kUser), 0u);
  EXPECT_EQ(store_->GetAuth(1, Role::kUser)->tries_left, 0u);
  EXPECT_EQ(store_->GetAuth(1, Role::kSo)->tries_left, 3u);  // the other role is untouched
  ASSERT_TRUE(store_->ResetTries(1, Role::kUser, Bytes{1, 2}).ok());
  EXPECT_EQ(store_->GetAuth(1, Role::kUser)->tries_left, 3u);
  EXPECT_EQ(store_->DecrementTries(9, Role::kUser).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ResetTries(9, Role::kUser, Bytes{}).code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, AttemptsRiseWithEachCountedTryAndSurviveAReset) {
  EXPECT_EQ(store_->GetAuth(1, Role::kUser)->attempts, 0u);
  EXPECT_TRUE(store_->GetAuth(1, Role::kUser)->anchor.empty());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->DecrementTries(1, Role::kUser).ok());
  EXPECT_EQ(store_->GetAuth(1, Role::kUser)->attempts, 3u);  // not raised once locked
  EXPECT_EQ(store_->GetAuth(1, Role::kSo)->attempts, 0u);
  ASSERT_TRUE(store_->ResetTries(1, Role::kUser, Bytes{7, 8}).ok());
  Result<AuthRow> user = store_->GetAuth(1, Role::kUser);
  EXPECT_EQ(user->attempts, 3u);
  EXPECT_EQ(user->anchor, (Bytes{7, 8}));
  AuthRow resealed = *user;
  resealed.attempts = 0;
  resealed.anchor = {9};
  ASSERT_TRUE(store_->PutAuth(resealed).ok());
  EXPECT_EQ(store_->GetAuth(1, Role::kUser)->attempts, 0u);
  EXPECT_EQ(store_->GetAuth(1, Role::kUser)->anchor, Bytes{9});
  ASSERT_TRUE(store_->DeleteToken(1).ok());
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("vault.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM meta WHERE key LIKE 'auth/1/%'", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 0);  // the deleted token's counter state went with it
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(StoreTest, DecrementTriesIsDurableAcrossReopen) {
  ASSERT_TRUE(store_->DecrementTries(1, Role::kSo).ok());
  std::unique_ptr<Store> other = MustOpen(dir_.File("vault.db"), false);
  EXPECT_EQ(other->GetAuth(1, Role::kSo)->tries_left, 2u);
}

TEST_F(StoreTest, ObjectCrudAndVersion) {
  ObjectRow row = Object(100, 1, kPrivate, "key", {1, 2}, true);
  ASSERT_TRUE(store_->InsertObject(row).ok());
  Result<ObjectRow> got = store_->GetObject(100);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->token_id, 1u);
  EXPECT_EQ(got->object_class, kPrivate);
  EXPECT_EQ(got->label, ToBytes("key"));
  EXPECT_EQ(got->ckid, Bytes({1, 2}));
  EXPECT_TRUE(got->is_private);
  EXPECT_EQ(got->record, row.record);
  EXPECT_EQ(got->version, 1u);
  EXPECT_EQ(store_->InsertObject(row).code(), StatusCode::kAlreadyExists);

  row.label = ToBytes("renamed");
  row.record = {1};
  row.version = 2;
  ASSERT_TRUE(store_->UpdateObject(row).ok());
  // A writer that read version 1 (not 2) is refused: nothing is written.
  row.record = {2};
  EXPECT_EQ(store_->UpdateObject(row).code(), StatusCode::kAborted);
  EXPECT_EQ(store_->GetObject(100)->record, Bytes({1}));
  row.version = 3;
  row.record = {1};
  ASSERT_TRUE(store_->UpdateObject(row).ok());
  EXPECT_EQ(*store_->GetObjectVersion(100), 3u);
  EXPECT_EQ(store_->GetObject(100)->label, ToBytes("renamed"));
  EXPECT_EQ(store_->GetObject(100)->record, Bytes({1}));

  ASSERT_TRUE(store_->DeleteObject(100).ok());
  EXPECT_EQ(store_->GetObject(100).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetObjectVersion(100).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteObject(100).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->UpdateObject(row).code(), StatusCode::kNotFound);
}

// FileHolds: whether the file at `path` contains `needle` anywhere.
bool FileHolds(const std::string& path, const Bytes& needle) {
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  Bytes all;
  uint8_t buf[65536];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), f)) > 0;) all.insert(all.end(), buf, buf + n);
  fclose(f);
  return std::search(all.begin(), all.end(), needle.begin(), needle.end()) != all.end();
}

// A record that is replaced or deleted (a destroyed key's sealed material)
// leaves no copy in the file's free pages or cells (secure_delete).
TEST_F(StoreTest, ReplacedAndDeletedRecordsLeaveNoCopyInTheFile) {
  Bytes sealed(9000);  // spills into overflow pages, which a delete frees
  for (size_t i = 0; i < sealed.size(); ++i) sealed[i] = static_cast<uint8_t>((i * 131 + 7) % 251);
  ObjectRow a = Object(200, 1, kPrivate, "replaced", {1}, true);
  a.record = sealed;
  ObjectRow b = Object(201, 1, kPrivate, "deleted", {2}, true);
  b.record = sealed;
  b.record[0] ^= 0xff;
  ASSERT_TRUE(store_->InsertObject(a).ok());
  ASSERT_TRUE(store_->InsertObject(b).ok());
  a.record = {1};
  a.version = 2;
  ASSERT_TRUE(store_->UpdateObject(a).ok());
  ASSERT_TRUE(store_->DeleteObject(201).ok());
  store_.reset();  // the last connection checkpoints the WAL into the file
  Bytes probe(sealed.begin() + 4000, sealed.begin() + 4064);
  EXPECT_FALSE(FileHolds(dir_.File("vault.db"), probe));
  EXPECT_FALSE(FileHolds(dir_.File("vault.db-wal"), probe));
}

TEST_F(StoreTest, InsertIntoMissingTokenIsNotFound) {
  EXPECT_EQ(store_->InsertObject(Object(5, 99, kCert, "x")).code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, InsertObjectsIsAtomic) {
  std::vector<ObjectRow> rows = {Object(10, 1, kPublic, "pair"), Object(11, 1, kPrivate, "pair", {}, true)};
  ASSERT_TRUE(store_->InsertObjects(rows).ok());
  EXPECT_TRUE(store_->GetObject(11).ok());
  // The second row clashes: the first must not be left behind.
  std::vector<ObjectRow> clash = {Object(12, 1, kPublic, "p2"), Object(10, 1, kPrivate, "p2")};
  EXPECT_EQ(store_->InsertObjects(clash).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetObject(12).status().code(), StatusCode::kNotFound);
}

class FindTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_TRUE(store_->CreateToken(Token(2), {}).ok());
    ASSERT_TRUE(store_->InsertObjects({Object(1, 1, kCert, "alice", {0xa}), Object(2, 1, kPublic, "alice", {0xa}),
                                       Object(3, 1, kPrivate, "alice", {0xa}, true),
                                       Object(4, 1, kCert, "bob", {0xb}), Object(5, 1, kCert, "", {}),
                                       Object(6, 2, kCert, "alice", {0xa})})
                    .ok());
  }
  std::vector<ObjectId> Find(ObjectQuery q) {
    Result<std::vector<ObjectId>> r = store_->FindObjects(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<ObjectId>{};
  }
};

TEST_F(FindTest, ByTokenOnly) {
  EXPECT_EQ(Find({.token_id = 1}), (std::vector<ObjectId>{1, 2, 4, 5}));
  EXPECT_EQ(Find({.token_id = 1, .include_private = true}), (std::vector<ObjectId>{1, 2, 3, 4, 5}));
  EXPECT_EQ(Find({.token_id = 2}), (std::vector<ObjectId>{6}));
  EXPECT_TRUE(Find({.token_id = 3}).empty());
}

TEST_F(FindTest, ByEachIndex) {
  EXPECT_EQ(Find({.token_id = 1, .label = ToBytes("alice"), .include_private = true}),
            (std::vector<ObjectId>{1, 2, 3}));
  EXPECT_EQ(Find({.token_id = 1, .label = ToBytes("alice")}), (std::vector<ObjectId>{1, 2}));
  EXPECT_EQ(Find({.token_id = 1, .label = Bytes{}}), (std::vector<ObjectId>{5}));
  EXPECT_EQ(Find({.token_id = 1, .ckid = Bytes{0xb}}), (std::vector<ObjectId>{4}));
  EXPECT_EQ(Find({.token_id = 1, .object_class = kCert}), (std::vector<ObjectId>{1, 4, 5}));
  EXPECT_EQ(Find({.token_id = 1, .object_class = kPrivate}), (std::vector<ObjectId>{}));
  EXPECT_EQ(Find({.token_id = 1, .object_class = kPrivate, .include_private = true}), (std::vector<ObjectId>{3}));
}

TEST_F(FindTest, Combinations) {
  EXPECT_EQ(Find({.token_id = 1, .object_class = kCert, .label = ToBytes("alice")}), (std::vector<ObjectId>{1}));
  EXPECT_EQ(Find({.token_id = 1, .object_class = kPublic, .ckid = Bytes{0xa}}), (std::vector<ObjectId>{2}));
  EXPECT_EQ(Find({.token_id = 1, .label = ToBytes("alice"), .ckid = Bytes{0xa}, .include_private = true}),
            (std::vector<ObjectId>{1, 2, 3}));
  EXPECT_EQ(Find({.token_id = 1, .object_class = kCert, .label = ToBytes("alice"), .ckid = Bytes{0xb}}),
            (std::vector<ObjectId>{}));
}

TEST_F(FindTest, CountObjects) {
  EXPECT_EQ(*store_->CountObjects(1, kCert), 3u);
  EXPECT_EQ(*store_->CountObjects(1, kPrivate), 1u);
  EXPECT_EQ(*store_->CountObjects(2, kPrivate), 0u);
}

TEST_F(StoreTest, RunExclusiveCommitsOrRollsBack) {
  Status s = store_->RunExclusive([&]() -> Status {
    Result<uint64_t> n = store_->CountObjects(1, kCert);  // reads join the transaction
    if (!n.ok()) return n.status();
    return store_->InsertObject(Object(200 + *n, 1, kCert, "x"));
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(store_->GetObject(200).ok());

  s = store_->RunExclusive([&]() -> Status {
    Status inner = store_->InsertObject(Object(300, 1, kCert, "y"));
    if (!inner.ok()) return inner;
    return FailedPreconditionError("capacity");
  });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->GetObject(300).status().code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, RunExclusiveNests) {
  Status s = store_->RunExclusive([&]() -> Status {
    Status inner = store_->RunExclusive([&]() { return store_->InsertObject(Object(400, 1, kCert, "n")); });
    if (!inner.ok()) return inner;
    // A failed nested write is undone alone (savepoint), the rest commits.
    Status failed = store_->InsertObjects({Object(401, 1, kCert, "m"), Object(400, 1, kCert, "dup")});
    if (failed.code() != StatusCode::kAlreadyExists) return InternalError("expected a clash");
    return store_->InsertObject(Object(402, 1, kCert, "o"));
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(store_->GetObject(400).ok());
  EXPECT_EQ(store_->GetObject(401).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetObject(402).ok());
}

TEST_F(StoreTest, TwoStoresOnOneFileSeeEachOther) {
  std::unique_ptr<Store> other = MustOpen(dir_.File("vault.db"), false);
  ASSERT_TRUE(store_->InsertObject(Object(77, 1, kCert, "shared")).ok());
  EXPECT_TRUE(other->GetObject(77).ok());
  // RunExclusive on one store does not capture calls on another store.
  Status s = store_->RunExclusive([&]() { return store_->InsertObject(Object(78, 1, kCert, "a")); });
  EXPECT_TRUE(s.ok());
  EXPECT_TRUE(other->GetObject(78).ok());
}

}  // namespace
}  // namespace certvault::storage
