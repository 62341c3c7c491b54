// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Store: the durable vault database. One SQLite file (WAL, synchronous=FULL)
// per vault directory. SQLite is the source of truth; the core caches nothing
// but parsed keys, so a change made by another process is seen by the next
// query. Every write method commits before it returns: an acknowledged write
// survives kill -9 and power loss.
//
// The store never sees secrets in the clear: secret attributes arrive sealed
// (AES-256-GCM by the core); records are opaque bytes here (see record.h).
//
// Concurrency: thread-safe; readers run in parallel (one connection per
// thread), writers take the database lock with BEGIN IMMEDIATE and wait (busy
// timeout, then bounded retries) so that several processes and threads never
// see "database is locked" under normal load.
//
// Errors: kUnavailable/kDeviceError when the file cannot be opened or written;
// kDataLoss/kCorruptStore when the file is not a certvault database or fails
// integrity checks; kNotFound for missing rows; kAlreadyExists on id clashes.
#ifndef CERTVAULT_STORAGE_STORE_H_
#define CERTVAULT_STORAGE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/status.h"

namespace certvault::storage {

using TokenId = uint64_t;   // 1, 2, 3 ... (also the PKCS#11 slot id)
using ObjectId = uint64_t;  // random in [1, 2^62), chosen by the core

struct TokenRow {
  TokenId token_id = 0;
  std::string label;   // UTF-8, ≤ 32 bytes
  std::string serial;  // ≤ 16 chars
  uint64_t flags = 0;  // certvault token flags (core/token.h), not CKF_*
  uint32_t capacity = 0;  // 0 = unlimited
  Bytes policy;        // encoded token policy (core), opaque here
  int64_t created_unix = 0;
  // integrity: the token's MAC'd integrity state (core, docs/formats/
  // integrity.md), opaque here; empty for a token written by a build without
  // it (schema version 1), which the core upgrades at the next login.
  Bytes integrity;
};

enum class Role : uint8_t { kSo = 0, kUser = 1 };

// AuthRow: one role's credentials for a token.
struct AuthRow {
  TokenId token_id = 0;
  Role role = Role::kSo;
  Bytes kdf;          // encoded KDF algorithm + parameters + salt (core)
  Bytes wrapped_key;  // the token key sealed under the PIN-derived key (core)
  uint32_t tries_left = 0;
  uint32_t max_tries = 0;
  uint32_t flags = 0;  // core: PIN must change, ...
  // Tamper-evident retry counter (docs/formats/token-key.md), kept in the
  // `meta` table under "auth/<token>/<role>/...": PIN checks started since the
  // row was sealed (only DecrementTries raises it), and the core's anchor
  // record of the last authenticated reset (opaque here; empty = none).
  uint64_t attempts = 0;
  Bytes anchor;
};

struct ObjectRow {
  ObjectId object_id = 0;
  TokenId token_id = 0;
  uint64_t object_class = 0;  // CKO_* (indexed)
  Bytes label;                // CKA_LABEL bytes (indexed)
  Bytes ckid;                 // CKA_ID bytes (indexed)
  bool is_private = false;    // CKA_PRIVATE (public sessions must not see it)
  uint64_t version = 0;       // bumped by every update (cache key for parsed keys)
  Bytes record;               // encoded attributes (record.h), secret values sealed
};

// ObjectQuery: an indexed lookup. Unset fields match anything.
struct ObjectQuery {
  TokenId token_id = 0;
  std::optional<uint64_t> object_class;
  std::optional<Bytes> label;
  std::optional<Bytes> ckid;
  bool include_private = false;
};

// EventRow: one record of a token's event log (docs/formats/event-log.md).
// The store keeps the fields as they are given; the audit layer computes
// prev_hash/hash (the chain) and checks them.
struct EventRow {
  TokenId token_id = 0;
  uint64_t seq = 0;       // 1, 2, 3 ... per token
  int64_t time_ms = 0;    // Unix time, milliseconds
  std::string role;       // "so", "user", "public", "context"
  std::string mode;       // "embedded" or "daemon"
  int64_t peer_uid = -1;  // the acting process (daemon: SO_PEERCRED); -1 unknown
  int64_t peer_pid = -1;
  std::string peer_exe;
  std::string action;      // "login", "generate_key_pair", ...
  uint64_t target_id = 0;  // object id (0: none)
  std::string target_label;
  std::string result;  // "ok" or the error reason
  std::string detail;
  Bytes prev_hash;  // 32 bytes
  Bytes hash;       // 32 bytes
};

// CheckpointRow: a signature over the chain head at `seq`.
struct CheckpointRow {
  TokenId token_id = 0;
  uint64_t seq = 0;
  int64_t time_ms = 0;
  uint32_t key_no = 0;  // the AuditKeyRow that signed it
  Bytes head;           // hash of record `seq`
  Bytes signature;
};

// AuditKeyRow: one of a token's checkpoint-signing keys (1, 2, ...).
struct AuditKeyRow {
  TokenId token_id = 0;
  uint32_t key_no = 0;
  Bytes public_key;      // SubjectPublicKeyInfo DER
  Bytes sealed_private;  // sealed under the token key (audit layer)
  int64_t created_ms = 0;
};

struct StoreOptions {
  bool create_if_missing = false;
  int busy_timeout_ms = 10000;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- Tokens ---
  virtual Result<std::vector<TokenRow>> ListTokens() = 0;
  virtual Result<TokenRow> GetToken(TokenId id) = 0;
  // NextTokenId: the id the next created token will get (the empty slot's id).
  virtual Result<TokenId> NextTokenId() = 0;
  // CreateToken: atomically (re)creates token `row.token_id` with its auth
  // rows, deleting any previous token of that id and all its objects.
  virtual Status CreateToken(const TokenRow& row, const std::vector<AuthRow>& auth) = 0;
  virtual Status UpdateToken(const TokenRow& row) = 0;
  virtual Status DeleteToken(TokenId id) = 0;

  // --- Authentication ---
  virtual Result<AuthRow> GetAuth(TokenId id, Role role) = 0;
  // PutAuth: insert or replace (PIN change, C_InitPIN).
  virtual Status PutAuth(const AuthRow& row) = 0;
  // DecrementTries: durably decrements tries_left (not below 0), raises
  // attempts by one in the same transaction (not when tries_left is 0), and returns
  // the value it had before (0 = already locked). Runs before a PIN check.
  virtual Result<uint32_t> DecrementTries(TokenId id, Role role) = 0;
  // ResetTries: tries_left = max_tries and the anchor replaced, in one
  // transaction (after a correct PIN); attempts is left as it is.
  virtual Status ResetTries(TokenId id, Role role, std::span<const uint8_t> anchor) = 0;

  // --- Objects ---
  // InsertObject: kAlreadyExists if object_id is taken. Capacity limits are
  // checked by the core inside RunExclusive.
  virtual Status InsertObject(const ObjectRow& row) = 0;
  // InsertObjects: several in one transaction (a key pair).
  virtual Status InsertObjects(const std::vector<ObjectRow>& rows) = 0;
  // RestoreObjects: InsertObjects keeping each row's own version (restoring
  // a backup: the record MACs bind the version). kAlreadyExists on a clash.
  virtual Status RestoreObjects(const std::vector<ObjectRow>& rows) { return UnimplementedError("RestoreObjects"); }
  // UpdateObject: replaces label/ckid/class/is_private/record and sets the
  // version to row.version, which must be the stored version + 1 (the core
  // authenticates the record together with its version). kNotFound if the
  // object is absent; kAborted if its stored version is not row.version - 1
  // (another writer changed it meanwhile): nothing is written then.
  virtual Status UpdateObject(const ObjectRow& row) = 0;
  virtual Status DeleteObject(ObjectId id) = 0;
  // GetObject: kNotFound if absent.
  virtual Result<ObjectRow> GetObject(ObjectId id) = 0;
  // GetObjectVersion: cheap check used to validate cached keys.
  virtual Result<uint64_t> GetObjectVersion(ObjectId id) = 0;
  // FindObjects: ids matching `query`, using the indexes (never a full scan
  // when a label, id or class is given).
  virtual Result<std::vector<ObjectId>> FindObjects(const ObjectQuery& query) = 0;
  // CountObjects: number of objects of `object_class` in a token.
  virtual Result<uint64_t> CountObjects(TokenId id, uint64_t object_class) = 0;
  // ForEachObject: calls `fn` for every object of token `id` (in object id
  // order), from one consistent snapshot; stops at the first error `fn`
  // returns and returns it. O(objects of the token): used at login to check
  // the token's object set (docs/formats/integrity.md).
  virtual Status ForEachObject(TokenId id, const std::function<Status(const ObjectRow&)>& fn) = 0;

  // RunExclusive: runs `fn` inside one write transaction (BEGIN IMMEDIATE), so
  // check-then-insert sequences (capacity limits) are atomic across processes.
  // `fn` may call the object/token methods above; they join the transaction.
  virtual Status RunExclusive(const std::function<Status()>& fn) = 0;

  // --- Trusted time (src/base/trusted_clock.h) ---
  // RaiseTrustedTime: the vault's durable "latest trusted time" (Unix
  // seconds, `meta` key 'trusted_time') becomes max(stored, t) in one write
  // transaction; returns the stored value after it. It never goes down.
  virtual Result<int64_t> RaiseTrustedTime(int64_t t) { return UnimplementedError("RaiseTrustedTime"); }
  // --- Event log (schema version 3; docs/formats/event-log.md) ---
  // Not tied to the token's row: a token's log survives C_InitToken.
  // LastEvent: the record with the highest seq of token `id`; kNotFound if
  // the token has none.
  virtual Result<EventRow> LastEvent(TokenId id) { return UnimplementedError("LastEvent"); }
  // InsertEvent: kAlreadyExists if (token_id, seq) is taken.
  virtual Status InsertEvent(const EventRow& row) { return UnimplementedError("InsertEvent"); }
  // ForEachEvent: token `id`'s records in seq order, from one snapshot.
  virtual Status ForEachEvent(TokenId id, const std::function<Status(const EventRow&)>& fn) {
    return UnimplementedError("ForEachEvent");
  }
  virtual Status InsertCheckpoint(const CheckpointRow& row) { return UnimplementedError("InsertCheckpoint"); }
  // ListCheckpoints: in seq order.
  virtual Result<std::vector<CheckpointRow>> ListCheckpoints(TokenId id) {
    return UnimplementedError("ListCheckpoints");
  }
  virtual Status InsertAuditKey(const AuditKeyRow& row) { return UnimplementedError("InsertAuditKey"); }
  // ListAuditKeys: in key_no order.
  virtual Result<std::vector<AuditKeyRow>> ListAuditKeys(TokenId id) { return UnimplementedError("ListAuditKeys"); }

  // --- Rows of other features in the `meta` table (key TEXT -> blob) ---
  // Used by the quorum (docs/design/quorum.md) under "quorum/<token>/..." and
  // "custodian/<token>/...". GetMeta: kNotFound if absent.
  virtual Result<Bytes> GetMetaRow(const std::string& key) { return UnimplementedError("GetMetaRow"); }
  // PutMeta: insert or replace.
  virtual Status PutMetaRow(const std::string& key, std::span<const uint8_t> value) {
    return UnimplementedError("PutMetaRow");
  }
  // ListMeta: every (key, value) whose key starts with `prefix`, in key order.
  virtual Result<std::vector<std::pair<std::string, Bytes>>> ListMetaRows(const std::string& prefix) {
    return UnimplementedError("ListMetaRows");
  }
  // DeleteMeta: deletes every key that starts with `prefix`.
  virtual Status DeleteMetaRows(const std::string& prefix) { return UnimplementedError("DeleteMetaRows"); }
  // ZeroizeToken: in one transaction with SQLite's secure_delete on, overwrites
  // the token's wrapped token keys and sealed audit keys with zeros, deletes its
  // meta rows ("auth/<id>/", "quorum/<id>/"), the token and (cascade) its
  // objects; then checkpoints and truncates the WAL, so that the freed pages
  // and old WAL frames no longer hold the sealed copies. The event log stays.
  // kNotFound if there is no such token.
  virtual Status ZeroizeToken(TokenId id) { return UnimplementedError("ZeroizeToken"); }
  // PurgeToken: deletes every row of the token — the token, its objects and
  // PIN records (cascade), its audit keys, event log and checkpoints, and its
  // meta rows ("auth/<id>/", "quorum/<id>/") — so that a restored archive can
  // take the slot (restore --overwrite, issue 16). Meant to run inside the
  // restore's RunExclusive transaction. kNotFound if there is no such token.
  virtual Status PurgeToken(TokenId id) { return UnimplementedError("PurgeToken"); }

  // --- Maintenance ---
  // CheckIntegrity: a full consistency check of the file (reads every page,
  // O(size); OpenStore only does cheap header and schema checks). OK, or
  // kDataLoss/kCorruptStore naming the first problem found.
  virtual Status CheckIntegrity() { return UnimplementedError("CheckIntegrity"); }
};

// OpenStore: opens (and with create_if_missing, creates with mode 0600 and
// migrates) the database at `path`. kNotFound if missing and not creating.
Result<std::unique_ptr<Store>> OpenStore(const std::string& path, const StoreOptions& options);

}  // namespace certvault::storage

#endif  // CERTVAULT_STORAGE_STORE_H_
