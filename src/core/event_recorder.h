// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EventRecorder: the embedded backend's writer of the vault's event log
// (docs/formats/event-log.md). It holds who this backend acts for (the
// process itself, or certvaultd's client from SO_PEERCRED) and, while a token
// is logged in, that token's opened audit key, so that each event written
// then also gets a signed checkpoint. Events written while nobody is logged
// in (a failed login) are chained but wait for the next checkpoint.
//
// A failure to write the log never changes the result of the operation it
// describes (the operation has committed by then); it is returned to the
// caller, which ignores it: a loaded module never prints.
//
// Thread-safety: all methods are thread-safe.
#ifndef CERTVAULT_CORE_EVENT_RECORDER_H_
#define CERTVAULT_CORE_EVENT_RECORDER_H_

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "src/audit/audit_key.h"
#include "src/audit/event_log.h"
#include "src/base/secret_bytes.h"
#include "src/model/types.h"
#include "src/storage/store.h"

namespace certvault::core {

class EventRecorder;

// PendingEvent: the event of an operation that writes token objects, to be
// appended inside the transaction that writes them (CommitPending), so that
// the event costs no commit (fsync) of its own.
struct PendingEvent {
  EventRecorder* recorder = nullptr;
  storage::TokenId token = 0;
  std::string role;
  audit::Event event;
  bool committed = false;  // appended inside the operation's transaction
  // violations_only: an operation on a session object, which is not logged
  // (it vanishes with the session) unless policy.toml refused it
  // (MarkPolicyViolation): then the refusal is recorded like a token key's.
  bool violations_only = false;
};

// PendingEventScope: makes `pending` this thread's pending event until the
// scope ends.
class PendingEventScope {
 public:
  explicit PendingEventScope(PendingEvent* pending);
  ~PendingEventScope();
  PendingEventScope(const PendingEventScope&) = delete;
  PendingEventScope& operator=(const PendingEventScope&) = delete;

 private:
  PendingEvent* previous_;
};

// RenamePendingEvent: gives this thread's pending event (if any, and not yet
// appended) the action and detail of what the operation turned out to be,
// e.g. a C_SetAttributeValue that is a key state transition.
void RenamePendingEvent(std::string action, std::string detail);

// MarkPolicyViolation: this thread's pending event (if any, and not yet
// appended) becomes a "policy_violation": the operation was refused because
// it contradicts policy.toml's `rule` (issue 17). Its detail keeps what the
// operation was: "ACTION refused by policy.toml RULE; DETAIL".
void MarkPolicyViolation(const std::string& rule);

class EventRecorder {
 public:
  // `enabled` = false writes nothing (bench/ measures the cost this way).
  explicit EventRecorder(bool enabled);

  // SetPeer: certvaultd's client process; recorded as mode "daemon".
  void SetPeer(int64_t uid, int64_t pid, std::string exe);

  // Unlock: after a correct PIN, opens token `token`'s newest audit key with
  // `token_key` and keeps it until Lock. A token without an audit key (made
  // before the event log existed) gets key 1 now, unless its verified token
  // row says it was made with the log (kTokenFlagEventLog): then its keys were
  // removed. A key that does not open (replaced or edited in the file) or was
  // removed is not used: an "audit_key_check" event with the error is
  // recorded and the Status (kCorruptStore) returned.
  Status Unlock(storage::Store& store, storage::TokenId token, const SecretBytes& token_key);
  // Lock: forgets the token's opened key (logout, re-initialization).
  void Lock(storage::TokenId token);

  // OnTokenInit: C_InitToken wrote a new token key. Makes the next audit key
  // with it; if the previous key is unlocked (the SO PIN of the old token was
  // checked), it first signs a rollover record announcing the new key. Then
  // records "init_token", signed by the new key, and locks the token.
  Status OnTokenInit(storage::Store& store, storage::TokenId token, const SecretBytes& new_token_key,
                     std::string_view label);

  // Record: appends `event` for token `token` with `role` ("so", "user",
  // "public", "context"); with a checkpoint if the token is unlocked.
  Status Record(storage::Store& store, storage::TokenId token, std::string_view role, audit::Event event);

  // CommitPending: called inside the transaction that writes token objects
  // (EmbeddedBackend::CommitObjects): appends this thread's pending event for
  // `token`, if any, completed with the object written (the private key of a
  // pair) or `removed`; rolled back with the transaction. OK if none.
  static Status CommitPending(storage::Store& store, storage::TokenId token, storage::ObjectId removed,
                              const std::vector<storage::ObjectRow>& added);

  bool enabled() const { return enabled_; }

  // RoleName: "so", "user", "context" or "public" (no login).
  static std::string RoleName(std::optional<UserType> user);
  // ResultOf: "ok", or the status code name ("PERMISSION_DENIED"...).
  static std::string ResultOf(const Status& status);

 private:
  std::shared_ptr<audit::AuditSigner> SignerOf(storage::TokenId token);
  Result<std::shared_ptr<audit::AuditSigner>> OpenNewest(storage::Store& store, storage::TokenId token,
                                                         const SecretBytes& token_key);
  audit::Actor ActorFor(std::string_view role);

  const bool enabled_;
  std::mutex mu_;
  audit::Actor actor_;                                                                 // GUARDED_BY(mu_)
  std::unordered_map<storage::TokenId, std::shared_ptr<audit::AuditSigner>> signers_;  // GUARDED_BY(mu_)
};

}  // namespace certvault::core

#endif  // CERTVAULT_CORE_EVENT_RECORDER_H_
