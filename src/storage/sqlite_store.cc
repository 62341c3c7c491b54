// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/storage/sqlite_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>

#include "src/base/status_macros.h"
#include "src/storage/sqlite_schema.h"

namespace certvault::storage {
namespace internal {
namespace {

constexpr size_t kMaxIdleConnections = 16;
// After busy_timeout expires, BEGIN IMMEDIATE is retried this many times with
// a growing sleep (1, 2, 4 ... 64 ms, then 64 ms).
constexpr int kMaxBeginRetries = 20;

// The transactions open on this thread: (store, connection). A store is
// present at most once; entries live only while its Write runs.
thread_local std::vector<std::pair<const SqliteStore*, Connection*>> t_transactions;

// CreateFileIfMissing: creates `path` with mode 0600 (whatever the umask) so
// SQLite, which copies the database's mode to its -wal and -shm files, never
// creates a group- or world-readable vault.
Status CreateFileIfMissing(const std::string& path, bool create) {
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) return InvalidArgumentError("store path is not a regular file: " + path);
    return OkStatus();
  }
  if (errno != ENOENT) {
    return Status(StatusCode::kUnavailable, Reason::kDeviceError, "cannot stat store: " + path);
  }
  if (!create) return NotFoundError("store does not exist: " + path);
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 && errno == EEXIST) return OkStatus();  // another process won the race
  if (fd < 0 && errno == ENOENT) return NotFoundError("store directory does not exist: " + path);
  if (fd < 0) {
    return Status(StatusCode::kUnavailable, Reason::kDeviceError,
                  "cannot create store " + path + ": " + std::strerror(errno));
  }
  int rc = fchmod(fd, 0600);  // open() honours the umask, which may be stricter
  close(fd);
  if (rc != 0) return Status(StatusCode::kUnavailable, Reason::kDeviceError, "cannot chmod store: " + path);
  return OkStatus();
}

// TransactionScope: registers (store, conn) as this thread's open
// transaction for its lifetime (exception-safe).
class TransactionScope {
 public:
  TransactionScope(const SqliteStore* store, Connection* conn) { t_transactions.emplace_back(store, conn); }
  ~TransactionScope() { t_transactions.pop_back(); }
  TransactionScope(const TransactionScope&) = delete;
  TransactionScope& operator=(const TransactionScope&) = delete;
};

bool IsBusy(int rc) { return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED; }

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path, const StoreOptions& options) {
  CV_RETURN_IF_ERROR(CreateFileIfMissing(path, options.create_if_missing));
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, options));
  Result<std::unique_ptr<Connection>> conn = store->Checkout();
  if (!conn.ok()) return conn.status().Annotate("cannot open store " + path);
  Status s = EnsureSchema(**conn, options.create_if_missing);
  if (!s.ok()) return s.Annotate("cannot open store " + path);
  store->Checkin(std::move(*conn));
  return store;
}

Result<std::unique_ptr<Connection>> SqliteStore::Checkout() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
  }
  return Connection::Open(path_, options_.busy_timeout_ms);
}

void SqliteStore::Checkin(std::unique_ptr<Connection> conn) {
  // A connection left inside a transaction (failed ROLLBACK) is dropped.
  if (sqlite3_get_autocommit(conn->db()) == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < kMaxIdleConnections) idle_.push_back(std::move(conn));
}

Connection* SqliteStore::CurrentTransaction() const {
  for (const auto& [store, conn] : t_transactions) {
    if (store == this) return conn;
  }
  return nullptr;
}

Status SqliteStore::Read(const ConnFn& fn) {
  if (Connection* txn = CurrentTransaction()) return fn(*txn);
  CV_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Checkout());
  Status s = fn(*conn);
  Checkin(std::move(conn));
  return s;
}

Status SqliteStore::Write(const ConnFn& fn) {
  if (Connection* txn = CurrentTransaction()) return WriteNested(*txn, fn);
  return WriteTopLevel(fn);
}

Status SqliteStore::WriteNested(Connection& conn, const ConnFn& fn) {
  CV_RETURN_IF_ERROR(conn.Exec("SAVEPOINT cv_nested"));
  Status s = fn(conn);
  if (s.ok()) return conn.Exec("RELEASE cv_nested");
  (void)conn.Exec("ROLLBACK TO cv_nested; RELEASE cv_nested");
  return s;
}

Status SqliteStore::WriteTopLevel(const ConnFn& fn) {
  CV_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Checkout());
  Status s = BeginImmediate(*conn);
  if (!s.ok()) {
    Checkin(std::move(conn));
    return s;
  }
  {
    TransactionScope scope(this, conn.get());
    s = fn(*conn);
  }
  if (s.ok()) s = conn->Exec("COMMIT");
  if (!s.ok() && sqlite3_get_autocommit(conn->db()) == 0) (void)conn->Exec("ROLLBACK");
  Checkin(std::move(conn));
  return s;
}

Status SqliteStore::BeginImmediate(Connection& conn) {
  for (int attempt = 0;; ++attempt) {
    int rc = conn.ExecRc("BEGIN IMMEDIATE");
    if (rc == SQLITE_OK) return OkStatus();
    if (!IsBusy(rc) || attempt >= kMaxBeginRetries) return SqliteStatus(rc, conn.db(), "BEGIN IMMEDIATE");
    std::this_thread::sleep_for(std::chrono::milliseconds(1 << std::min(attempt, 6)));
  }
}

Status SqliteStore::RunExclusive(const std::function<Status()>& fn) {
  return Write([&fn](Connection&) { return fn(); });
}

Status SqliteStore::CheckIntegrity() {
  return Read([](Connection& conn) { return internal::CheckIntegrity(conn); });
}

}  // namespace internal

Result<std::unique_ptr<Store>> OpenStore(const std::string& path, const StoreOptions& options) {
  CV_ASSIGN_OR_RETURN(std::unique_ptr<internal::SqliteStore> store, internal::SqliteStore::Open(path, options));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace certvault::storage
