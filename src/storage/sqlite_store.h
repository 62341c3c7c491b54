// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// SqliteStore: the SQLite implementation of Store (store.h). Internal: users
// call OpenStore().
//
// Connections: a pool of sqlite3 handles, one checked out per call and per
// thread, each with its own cache of prepared statements. Reads run in
// autocommit mode (WAL readers never block the writer). Writes run in BEGIN
// IMMEDIATE transactions; while a thread is inside RunExclusive (or any other
// write) on this store, every call it makes on the same store joins that
// transaction's connection (nested writes become SAVEPOINTs).
//
// Caveats: inside RunExclusive, do not write through a *different* Store on
// the same file from the same thread (it would wait for the lock this thread
// holds, then fail with kUnavailable). A Store must not be used across fork():
// the child opens its own.
#ifndef CERTVAULT_STORAGE_SQLITE_STORE_H_
#define CERTVAULT_STORAGE_SQLITE_STORE_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "src/storage/sqlite_util.h"
#include "src/storage/store.h"

namespace certvault::storage::internal {

// FindObjectsSql: the SELECT that FindObjects prepares for `query` (exposed
// so that tests can check its query plan).
std::string FindObjectsSql(const ObjectQuery& query);

class SqliteStore final : public Store {
 public:
  // Open: see OpenStore() in store.h.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path, const StoreOptions& options);
  ~SqliteStore() override = default;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Result<std::vector<TokenRow>> ListTokens() override;
  Result<TokenRow> GetToken(TokenId id) override;
  Result<TokenId> NextTokenId() override;
  Status CreateToken(const TokenRow& row, const std::vector<AuthRow>& auth) override;
  Status UpdateToken(const TokenRow& row) override;
  Status DeleteToken(TokenId id) override;

  Result<AuthRow> GetAuth(TokenId id, Role role) override;
  Status PutAuth(const AuthRow& row) override;
  Result<uint32_t> DecrementTries(TokenId id, Role role) override;
  Status ResetTries(TokenId id, Role role, std::span<const uint8_t> anchor) override;

  Status InsertObject(const ObjectRow& row) override;
  Status InsertObjects(const std::vector<ObjectRow>& rows) override;
  Status RestoreObjects(const std::vector<ObjectRow>& rows) override;
  Status UpdateObject(const ObjectRow& row) override;
  Status DeleteObject(ObjectId id) override;
  Result<ObjectRow> GetObject(ObjectId id) override;
  Result<uint64_t> GetObjectVersion(ObjectId id) override;
  Result<std::vector<ObjectId>> FindObjects(const ObjectQuery& query) override;
  Result<uint64_t> CountObjects(TokenId id, uint64_t object_class) override;
  Status ForEachObject(TokenId id, const std::function<Status(const ObjectRow&)>& fn) override;

  Result<EventRow> LastEvent(TokenId id) override;
  Status InsertEvent(const EventRow& row) override;
  Status ForEachEvent(TokenId id, const std::function<Status(const EventRow&)>& fn) override;
  Status InsertCheckpoint(const CheckpointRow& row) override;
  Result<std::vector<CheckpointRow>> ListCheckpoints(TokenId id) override;
  Status InsertAuditKey(const AuditKeyRow& row) override;
  Result<std::vector<AuditKeyRow>> ListAuditKeys(TokenId id) override;

  Status RunExclusive(const std::function<Status()>& fn) override;
  Status CheckIntegrity() override;
  Result<int64_t> RaiseTrustedTime(int64_t t) override;  // sqlite_store_meta.cc
  Result<Bytes> GetMetaRow(const std::string& key) override;  // sqlite_store_meta.cc
  Status PutMetaRow(const std::string& key, std::span<const uint8_t> value) override;
  Result<std::vector<std::pair<std::string, Bytes>>> ListMetaRows(const std::string& prefix) override;
  Status DeleteMetaRows(const std::string& prefix) override;
  Status ZeroizeToken(TokenId id) override;
  Status PurgeToken(TokenId id) override;

 private:
  using ConnFn = std::function<Status(Connection&)>;

  SqliteStore(std::string path, const StoreOptions& options) : path_(std::move(path)), options_(options) {}

  // Read: runs `fn` on the calling thread's transaction connection, if any,
  // else on a pooled connection in autocommit mode.
  Status Read(const ConnFn& fn);
  // Write: runs `fn` atomically and durably: in a new BEGIN IMMEDIATE
  // transaction committed before Write returns, or, when the thread already
  // has one open on this store, inside a SAVEPOINT of it.
  Status Write(const ConnFn& fn);
  Status WriteNested(Connection& conn, const ConnFn& fn);
  Status WriteTopLevel(const ConnFn& fn);
  // BeginImmediate: takes the write lock, retrying a bounded number of times
  // with backoff after busy_timeout has expired.
  Status BeginImmediate(Connection& conn);

  Result<std::unique_ptr<Connection>> Checkout();
  void Checkin(std::unique_ptr<Connection> conn);
  Connection* CurrentTransaction() const;

  const std::string path_;
  const StoreOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
};

}  // namespace certvault::storage::internal

#endif  // CERTVAULT_STORAGE_SQLITE_STORE_H_
