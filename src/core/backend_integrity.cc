// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EmbeddedBackend: integrity of the stored token and its objects
// (docs/formats/integrity.md): the login-time check of the token state and
// its object set, the one-time upgrade of a legacy token, and the write path
// that keeps the set in step with every object change.
#include "src/base/status_macros.h"
#include "src/core/auth.h"
#include "src/core/embedded_backend.h"

namespace certvault::core {
namespace {

// Enough for the objects of any usual token; beyond it, arbitrary entries
// are forgotten (those objects are then only checked at the next login).
constexpr size_t kMaxTrackedVersions = 65536;

Status RolledBack(storage::ObjectId id) {
  return ObjectFailed(id, {}, "its row is older than the one seen earlier in this login (copied back)");
}

Status StateRemoved(storage::TokenId token) {
  return Status(Reason::kCorruptStore,
                "token " + std::to_string(token) + " failed its integrity check: its integrity state was removed, "
                "but its PIN records were written by a build that keeps one (a downgrade: the vault file was changed "
                "outside certvault); nothing of it is trusted. Restore vault.db from a backup or re-initialize the "
                "token (C_InitToken with the SO PIN, e.g. pkcs11-tool --init-token) and re-create its objects");
}

}  // namespace

SecretBytes EmbeddedBackend::IntegrityKeyOf(TokenRuntime& rt) {
  std::shared_lock<std::shared_mutex> lock(rt.mu);
  return rt.integrity_key.Clone();
}

Status EmbeddedBackend::CheckUsable(TokenRuntime& rt, const Object& obj) {
  if (!obj.token_object) return OkStatus();
  {
    std::shared_lock<std::shared_mutex> lock(rt.mu);
    if (rt.integrity_key.empty()) return OkStatus();
    if (rt.damaged.test(BucketOf(obj.id))) {
      return ObjectFailed(obj.id, {}, "the token's object set did not match at login (a row of its group was "
                                      "deleted, copied back from an older version, or added)");
    }
    auto it = rt.newest_version.find(obj.id);
    if (it != rt.newest_version.end() && it->second > obj.version) return RolledBack(obj.id);
    if (it != rt.newest_version.end() && it->second == obj.version) return OkStatus();  // the common case
  }
  return NoteVersion(rt, obj.id, obj.version);
}

Status EmbeddedBackend::NoteVersion(TokenRuntime& rt, storage::ObjectId id, uint64_t version) {
  std::unique_lock<std::shared_mutex> lock(rt.mu);
  if (rt.integrity_key.empty()) return OkStatus();
  auto it = rt.newest_version.find(id);
  if (it != rt.newest_version.end()) {
    if (it->second > version) return RolledBack(id);
    it->second = version;
    return OkStatus();
  }
  if (rt.newest_version.size() >= kMaxTrackedVersions) rt.newest_version.erase(rt.newest_version.begin());
  rt.newest_version.emplace(id, version);
  return OkStatus();
}

// UpgradeLegacyToken: trust on first use. A token written by a build without
// integrity (empty state) has every object re-stored with a record MAC (at
// version + 1) and gets its first state, in the caller's transaction. A row
// that is malformed or whose columns disagree with its record is left as it
// is: as a version-1 record it is refused from now on.
Status EmbeddedBackend::UpgradeLegacyToken(storage::Store& store, storage::TokenRow row, const SecretBytes& ik) {
  std::vector<storage::ObjectId> ids;
  CV_RETURN_IF_ERROR(store.ForEachObject(row.token_id, [&](const storage::ObjectRow& r) {
    ids.push_back(r.object_id);
    return OkStatus();
  }));
  TokenState state;
  for (storage::ObjectId id : ids) {
    CV_ASSIGN_OR_RETURN(storage::ObjectRow stored, store.GetObject(id));
    Result<std::shared_ptr<Object>> obj = FromRow(stored, nullptr);
    if (!obj.ok()) continue;
    (*obj)->version = stored.version + 1;
    CV_ASSIGN_OR_RETURN(storage::ObjectRow upgraded, ToRow(**obj, &ik));
    CV_RETURN_IF_ERROR(store.UpdateObject(upgraded));
    CV_RETURN_IF_ERROR(state.ToggleRow(ik, upgraded));
  }
  CV_ASSIGN_OR_RETURN(row.integrity, SealTokenState(ik, row, state));
  return store.UpdateToken(row);
}

Result<bool> EmbeddedBackend::TokenStateRequired(storage::Store& store, storage::TokenId token) {
  for (storage::Role role : {storage::Role::kSo, storage::Role::kUser}) {
    Result<storage::AuthRow> auth = store.GetAuth(token, role);
    if (!auth.ok() && auth.status().code() == StatusCode::kNotFound) {
      if (role == storage::Role::kSo) return true;  // every token has one: it was deleted
      continue;                                     // the user PIN is not initialized yet
    }
    CV_RETURN_IF_ERROR(auth.status());
    Result<bool> counted = HasCountedKdf(*auth);
    if (!counted.ok() || *counted) return true;  // a malformed record is no evidence of a legacy token
  }
  return false;
}

Status EmbeddedBackend::ResealLegacyPin(storage::Store& store, const storage::AuthRow& resealed,
                                        const SecretBytes& token_key) {
  CV_ASSIGN_OR_RETURN(SecretBytes ik, DeriveIntegrityKey(token_key));
  // One transaction: a crash never leaves a version 2 PIN record beside a
  // token without a state (which the next login would refuse as a downgrade).
  return store.RunExclusive([&]() -> Status {
    CV_ASSIGN_OR_RETURN(storage::TokenRow row, store.GetToken(resealed.token_id));
    if (row.integrity.empty()) {
      // The verified record is still version 1 here, so this looks at the
      // other role's record. If the state is required, it was removed: no
      // upgrade; the login's CheckTokenAtLogin refuses the token, while
      // C_InitToken (which replaces it) still works.
      CV_ASSIGN_OR_RETURN(bool required, TokenStateRequired(store, row.token_id));
      if (!required) CV_RETURN_IF_ERROR(UpgradeLegacyToken(store, std::move(row), ik));
    }
    return store.PutAuth(resealed);
  });
}

Result<LoginCheck> EmbeddedBackend::CheckTokenAtLogin(storage::Store& store, storage::TokenId token,
                                                     const SecretBytes& ik, storage::TokenRow* out_row) {
  LoginCheck check;
  // One write transaction: a consistent snapshot of the token row and all its
  // objects, and the legacy upgrade (if any) is atomic across processes.
  CV_RETURN_IF_ERROR(store.RunExclusive([&]() -> Status {
    CV_ASSIGN_OR_RETURN(storage::TokenRow row, store.GetToken(token));
    *out_row = row;
    // A legacy token got its state when its version 1 PIN record was
    // re-sealed (ResealLegacyPin), before this check; the record verified
    // for this login is version 2 now, so an empty state was removed.
    if (row.integrity.empty()) return StateRemoved(token);
    CV_ASSIGN_OR_RETURN(TokenState stored, OpenTokenState(ik, row));
    CV_ASSIGN_OR_RETURN(crypto::HmacKey keyed, crypto::HmacKey::Create(ik));
    TokenState found;
    CV_RETURN_IF_ERROR(store.ForEachObject(token, [&](const storage::ObjectRow& r) {
      // A malformed header leaves the row's group unverifiable.
      if (!found.ToggleRow(keyed, r).ok()) check.damaged.set(BucketOf(r.object_id));
      if (check.versions.size() < kMaxTrackedVersions) check.versions.emplace(r.object_id, r.version);
      return OkStatus();
    }));
    check.damaged |= found.Diff(stored);
    return OkStatus();
  }));
  return check;
}

void EmbeddedBackend::AdoptVerifiedToken(const storage::TokenRow& row) {
  std::optional<std::set<MechanismType>> allowed = config_.AllowedMechanisms(row.label);
  for (const std::shared_ptr<Session>& s : SessionsOf(row.token_id)) {
    std::lock_guard<std::mutex> lock(s->mu);
    s->allowed = allowed;
    s->capacity = row.capacity;
  }
}

Status EmbeddedBackend::CommitObjects(storage::Store& store, storage::TokenId token, const SecretBytes& ik,
                                      const Object* removed, const std::vector<storage::ObjectRow>& added,
                                      const std::function<Status()>& write) {
  std::vector<const Object*> gone;
  if (removed != nullptr) gone.push_back(removed);
  return CommitObjectSet(store, token, ik, gone, added, write, nullptr);
}

Status EmbeddedBackend::CommitObjectSet(storage::Store& store, storage::TokenId token, const SecretBytes& ik,
                                        std::span<const Object* const> removed,
                                        const std::vector<storage::ObjectRow>& added,
                                        const std::function<Status()>& write,
                                        const std::function<Status(storage::TokenRow&)>& edit_token) {
  const storage::ObjectId first_removed = removed.empty() ? 0 : removed.front()->id;
  if (ik.empty()) {
    // Nobody is logged in: the set cannot be updated, so only unauthenticated
    // objects (which are not in it) may change, and the token row not at all.
    for (const Object* r : removed) {
      if (!r->record_mac.empty()) {
        return Status(Reason::kUserNotLoggedIn, "changing this token object needs a logged-in user");
      }
    }
    if (edit_token) return Status(Reason::kUserNotLoggedIn, "changing the token needs a logged-in user");
    return store.RunExclusive([&]() -> Status {
      CV_RETURN_IF_ERROR(write());
      return EventRecorder::CommitPending(store, token, first_removed, added);
    });
  }
  return store.RunExclusive([&]() -> Status {
    CV_ASSIGN_OR_RETURN(storage::TokenRow row, store.GetToken(token));
    CV_ASSIGN_OR_RETURN(TokenState state, OpenTokenState(ik, row));
    for (const Object* r : removed) {
      // The stored row must still be the one r->record_mac describes.
      CV_ASSIGN_OR_RETURN(uint64_t version, store.GetObjectVersion(r->id));
      if (version != r->version) {
        return Status(StatusCode::kAborted, Reason::kFunctionFailed, "the object was changed meanwhile; retry");
      }
      CV_RETURN_IF_ERROR(state.Toggle(ik, token, r->id, r->version, r->record_mac));
    }
    for (const storage::ObjectRow& r : added) CV_RETURN_IF_ERROR(state.ToggleRow(ik, r));
    CV_RETURN_IF_ERROR(write());
    // The operation's event joins this transaction (event_recorder.h).
    CV_RETURN_IF_ERROR(EventRecorder::CommitPending(store, token, first_removed, added));
    if (edit_token) CV_RETURN_IF_ERROR(edit_token(row));  // sealed below: the token fields are MACed
    CV_ASSIGN_OR_RETURN(row.integrity, SealTokenState(ik, row, state));
    return store.UpdateToken(row);
  });
}

}  // namespace certvault::core
