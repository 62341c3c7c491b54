// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EmbeddedBackend: sessions and login (PKCS#11 §5.6, §5.5 C_InitPIN/C_SetPIN).
#include "src/base/status_macros.h"
#include "src/core/auth.h"
#include "src/core/embedded_backend.h"
#include "src/core/pin_counter.h"

namespace certvault::core {
namespace {

storage::Role RoleOf(UserType user) { return user == UserType::kSo ? storage::Role::kSo : storage::Role::kUser; }

}  // namespace

Result<std::shared_ptr<Session>> EmbeddedBackend::FindSession(SessionHandle handle) {
  SessionShard& shard = ShardFor(handle);
  std::shared_lock<std::shared_mutex> lock(shard.mu);
  auto it = shard.map.find(handle);
  if (it == shard.map.end()) return Status(Reason::kSessionHandleInvalid, "no such session");
  return it->second;
}

Result<std::shared_ptr<Session>> EmbeddedBackend::GetSession(SessionHandle handle) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, FindSession(handle));
  // PKCS#11 v3.0 §5.1 CKR_PIN_EXPIRED: "the requested operation cannot be
  // carried out unless C_SetPIN is called to change the PIN value."
  if (s->runtime->pin_expired.load(std::memory_order_acquire)) {
    return Status(Reason::kPinExpired, "the PIN must be changed first (C_SetPIN, certvault change-pin)");
  }
  return s;
}

std::vector<std::shared_ptr<Session>> EmbeddedBackend::SessionsOf(storage::TokenId token) {
  std::vector<std::shared_ptr<Session>> out;
  for (SessionShard& shard : session_shards_) {
    std::shared_lock<std::shared_mutex> lock(shard.mu);
    for (const auto& [h, s] : shard.map) {
      if (s->token == token) out.push_back(s);
    }
  }
  return out;
}

void EmbeddedBackend::DropSpares(storage::TokenId token) {
  for (const std::shared_ptr<Session>& s : SessionsOf(token)) {
    std::lock_guard<std::mutex> lock(s->mu);
    for (auto& spare : s->spare) spare.reset();
  }
}

void EmbeddedBackend::LogoutLocked(TokenRuntime& rt) {
  rt.login_epoch.fetch_add(1, std::memory_order_acq_rel);
  local_changes_.fetch_add(1, std::memory_order_acq_rel);
  rt.login.reset();
  events_.Lock(rt.id);
  rt.pin_expired.store(false, std::memory_order_release);
  rt.token_key = SecretBytes();  // the old buffer is wiped on free
  rt.integrity_key = SecretBytes();
  rt.damaged.reset();
  rt.newest_version.clear();
  rt.key_cache.clear();
}

Result<SessionHandle> EmbeddedBackend::OpenSession(SlotId slot, uint64_t flags) {
  if ((flags & CKF_SERIAL_SESSION) == 0) {
    return Status(Reason::kSessionParallelNotSupported, "CKF_SERIAL_SESSION must be set");
  }
  Result<storage::TokenRow> token = TokenForSlot(slot);
  if (!token.ok()) {
    CV_ASSIGN_OR_RETURN(SlotInfo unused, GetSlotInfo(slot));
    (void)unused;
    return Status(Reason::kTokenNotRecognized, "the token in this slot is not initialized");
  }
  auto s = std::make_shared<Session>();
  s->token = token->token_id;
  s->flags = flags & (CKF_RW_SESSION | CKF_SERIAL_SESSION);
  s->runtime = Runtime(token->token_id);
  {
    std::unique_lock<std::shared_mutex> rt_lock(s->runtime->mu);
    if (!s->rw() && s->runtime->login == UserType::kSo) {
      return Status(Reason::kSessionReadWriteSoExists, "the SO is logged in: only R/W sessions may be opened");
    }
    ++s->runtime->session_count;
    if (s->rw()) ++s->runtime->rw_session_count;
  }
  s->allowed = config_.AllowedMechanisms(token->label);
  s->capacity = token->capacity;
  s->handle = next_session_.fetch_add(1);
  SessionShard& shard = ShardFor(s->handle);
  std::unique_lock<std::shared_mutex> lock(shard.mu);
  shard.map[s->handle] = s;
  return s->handle;
}

Status EmbeddedBackend::CloseSession(SessionHandle handle) {
  std::shared_ptr<Session> s;
  {
    SessionShard& shard = ShardFor(handle);
    std::unique_lock<std::shared_mutex> lock(shard.mu);
    auto it = shard.map.find(handle);
    if (it == shard.map.end()) return Status(Reason::kSessionHandleInvalid, "no such session");
    s = it->second;
    shard.map.erase(it);
  }
  DropSessionObjects(handle);
  std::lock_guard<std::mutex> session_lock(s->mu);  // wait for a call in flight on it
  std::unique_lock<std::shared_mutex> rt_lock(s->runtime->mu);
  --s->runtime->session_count;
  if (s->rw()) --s->runtime->rw_session_count;
  // PKCS#11 §5.6 C_CloseSession: "When a session is closed, ... if it is the
  // last session, the token is logged out."
  if (s->runtime->session_count == 0) LogoutLocked(*s->runtime);
  return OkStatus();
}

Status EmbeddedBackend::CloseAllSessions(SlotId slot) {
  CV_ASSIGN_OR_RETURN(storage::TokenRow token, TokenForSlot(slot));
  std::vector<SessionHandle> handles;
  for (const std::shared_ptr<Session>& s : SessionsOf(token.token_id)) handles.push_back(s->handle);
  for (SessionHandle h : handles) (void)CloseSession(h);  // a concurrent close is fine
  return OkStatus();
}

Result<SessionInfo> EmbeddedBackend::GetSessionInfo(SessionHandle handle) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, FindSession(handle));
  SessionInfo info;
  info.slot = s->token;
  info.flags = s->flags;
  std::shared_lock<std::shared_mutex> lock(s->runtime->mu);
  if (s->runtime->login == UserType::kSo) {
    info.state = CKS_RW_SO_FUNCTIONS;
  } else if (s->runtime->login == UserType::kUser) {
    info.state = s->rw() ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
  } else {
    info.state = s->rw() ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
  }
  return info;
}

Status EmbeddedBackend::CheckLoginAllowed(const Session& s, UserType user) {
  TokenRuntime& rt = *s.runtime;
  std::shared_lock<std::shared_mutex> lock(rt.mu);
  if (rt.login == user) return Status(Reason::kUserAlreadyLoggedIn, "already logged in");
  if (rt.login) return Status(Reason::kUserAnotherAlreadyLoggedIn, "another user is logged in");
  if (user == UserType::kSo && rt.session_count != rt.rw_session_count) {
    return Status(Reason::kSessionReadOnlyExists, "close read-only sessions before the SO logs in");
  }
  return OkStatus();
}

Result<SecretBytes> EmbeddedBackend::VerifyPin(storage::Store& store, storage::TokenId token, UserType user,
                                               const SecretBytes& pin, bool* must_change) {
  // PKCS#11 v3.0 §5.6 C_Login: a NULL pPin means the protected authentication
  // path, which this token does not have: refused before anything is counted.
  if (pin.empty()) return Status(Reason::kArgumentsBad, "no PIN given (the token has no protected authentication path)");
  Result<storage::AuthRow> auth = store.GetAuth(token, RoleOf(user));
  if (!auth.ok() && auth.status().code() == StatusCode::kNotFound) {
    return Status(Reason::kUserPinNotInitialized, "the user PIN is not initialized");
  }
  CV_RETURN_IF_ERROR(auth.status());
  // A counter set back outside certvault is caught here, before the KDF.
  CV_RETURN_IF_ERROR(CheckCounterConsistent(*auth));
  // The counter is decremented and committed *before* the PIN is checked, so
  // killing the process mid-check cannot buy extra guesses; the caller's lock
  // makes decrement, check and reset one step for all processes (pin_lock.h).
  CV_ASSIGN_OR_RETURN(uint32_t before, store.DecrementTries(token, RoleOf(user)));
  if (before == 0) return Status(Reason::kPinLocked, "PIN locked: the SO must reset it (certvault unlock)");
  Result<SecretBytes> key = OpenTokenKey(*auth, pin);
  if (!key.ok()) {
    if (key.status().reason() == Reason::kPinIncorrect && before == 1) {
      (void)events_.Record(store, token, EventRecorder::RoleName(user), audit::Event{"lockout", 0, "", "pin_locked"});
      return Status(Reason::kPinLocked, "incorrect PIN; the PIN is now locked");
    }
    return key.status();
  }
  CV_RETURN_IF_ERROR(AcceptCorrectPin(store, *auth, pin, *key));
  *must_change = (auth->flags & kAuthFlagMustChange) != 0;
  return key;
}

Status EmbeddedBackend::AcceptCorrectPin(storage::Store& store, const storage::AuthRow& checked,
                                         const SecretBytes& pin, const SecretBytes& token_key) {
  CV_ASSIGN_OR_RETURN(storage::AuthRow now, store.GetAuth(checked.token_id, checked.role));
  CV_ASSIGN_OR_RETURN(bool counted, HasCountedKdf(now));
  if (!counted) {  // a version 1 row: re-seal it with a tamper-evident counter
    CV_ASSIGN_OR_RETURN(storage::AuthRow row, SealTokenKey(now.token_id, now.role, pin, token_key, config_.kdf,
                                                           now.max_tries));
    row.flags = now.flags;
    return ResealLegacyPin(store, row, token_key);
  }
  // More than max_tries counted checks since the last authenticated reset, or
  // an anchor that is not ours: the counter was tampered with.
  CV_RETURN_IF_ERROR(CheckCounterAuthentic(token_key, now));
  CV_ASSIGN_OR_RETURN(Bytes anchor, MakeCounterAnchor(token_key, now, now.attempts));
  return store.ResetTries(now.token_id, now.role, anchor);
}

Status EmbeddedBackend::CheckPinPolicy(const SecretBytes& pin, bool so) const {
  uint32_t min = config_.MinPinLength(so);
  if (pin.size() < min || pin.size() > config_.pin_max_length) {
    return Status(Reason::kPinLenRange, std::string(so ? "the SO PIN" : "the user PIN") + " must have " +
                                            std::to_string(min) + " to " + std::to_string(config_.pin_max_length) +
                                            " characters (pin policy: docs/config.md)");
  }
  return OkStatus();
}

Status EmbeddedBackend::LoginUnlogged(SessionHandle handle, UserType user, const SecretBytes& pin) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, FindSession(handle));
  if (user == UserType::kContextSpecific) return ContextLogin(*s, pin);
  if (user != UserType::kSo && user != UserType::kUser) return Status(Reason::kUserTypeInvalid, "bad user type");
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  CV_RETURN_IF_ERROR(CheckLoginAllowed(*s, user));
  // Trusted time before the PIN is checked: PIN expiry and everything the
  // login enables depend on the date (docs/config.md, "Trusted time").
  CV_RETURN_IF_ERROR(clock_.Check());
  // The memory-hard PIN check runs without the token lock, so sessions that
  // are already signing on this token are not stalled by it.
  bool must_change = false;
  SecretBytes key;
  {
    PinCheckLock::Guard serialized(pin_lock_);
    CV_ASSIGN_OR_RETURN(key, VerifyPin(*store, s->token, user, pin, &must_change));
  }
  // A PIN that must be changed logs in without the token key: only C_SetPIN
  // (which checks the old PIN again) and the session calls work (GetSession).
  if (must_change) return CommitLogin(*s, user, SecretBytes(), SecretBytes(), LoginCheck{}, /*pin_expired=*/true);
  // The token record and its object set are checked before the login takes
  // effect: a token record that fails refuses the login (kCorruptStore); a
  // group of objects that fails is refused object by object (CheckUsable).
  CV_ASSIGN_OR_RETURN(SecretBytes ik, DeriveIntegrityKey(key));
  storage::TokenRow verified;
  CV_ASSIGN_OR_RETURN(LoginCheck check, CheckTokenAtLogin(*store, s->token, ik, &verified));
  CV_RETURN_IF_ERROR(CommitLogin(*s, user, std::move(key), std::move(ik), std::move(check), /*pin_expired=*/false));
  AdoptVerifiedToken(verified);
  return OkStatus();
}

Status EmbeddedBackend::CommitLogin(Session& s, UserType user, SecretBytes key, SecretBytes ik, LoginCheck check,
                                    bool pin_expired) {
  std::unique_lock<std::shared_mutex> lock(s.runtime->mu);
  if (s.runtime->login) {  // another thread won the race
    return Status(s.runtime->login == user ? Reason::kUserAlreadyLoggedIn : Reason::kUserAnotherAlreadyLoggedIn,
                  "logged in meanwhile");
  }
  if (user == UserType::kSo && s.runtime->session_count != s.runtime->rw_session_count) {
    return Status(Reason::kSessionReadOnlyExists, "close read-only sessions before the SO logs in");
  }
  s.runtime->login = user;
  s.runtime->pin_expired.store(pin_expired, std::memory_order_release);
  s.runtime->token_key = std::move(key);
  s.runtime->integrity_key = std::move(ik);
  s.runtime->damaged = check.damaged;
  s.runtime->newest_version = std::move(check.versions);
  // Public keys parsed before the login were not verified: parse them again.
  s.runtime->key_cache.clear();
  s.runtime->login_epoch.fetch_add(1, std::memory_order_acq_rel);
  local_changes_.fetch_add(1, std::memory_order_acq_rel);
  return OkStatus();
}

Status EmbeddedBackend::ContextLogin(Session& s, const SecretBytes& pin) {
  // The session lock is held across the PIN check: it stalls only this
  // session's own calls, and the operation cannot end underneath.
  std::lock_guard<std::mutex> lock(s.mu);
  // v3.0 §4.9: "Re-authentication occurs by calling C_Login with userType set
  // to CKU_CONTEXT_SPECIFIC immediately after a cryptographic operation using
  // the key has been initiated (e.g. after C_SignInit)." The login is for the
  // operation initialized last, else one still waiting; one PIN entry
  // authorizes one operation.
  auto waiting = [](const std::optional<ActiveOp>& op) {
    return op && op->needs_context_login && !op->context_login_done;
  };
  std::optional<ActiveOp>* target = nullptr;
  if (s.awaiting_context_login && waiting(s.ops[*s.awaiting_context_login])) {
    target = &s.ops[*s.awaiting_context_login];
  }
  for (auto& op : s.ops) {
    if (target == nullptr && waiting(op)) target = &op;
  }
  // §5.6.8: "Improper use of this user type will result in a return value
  // CKR_OPERATION_NOT_INITIALIZED."
  if (target == nullptr) {
    return Status(Reason::kOperationNotInitialized, "no operation awaits a context-specific login");
  }
  {
    std::shared_lock<std::shared_mutex> rt_lock(s.runtime->mu);
    if (s.runtime->login != UserType::kUser) return Status(Reason::kUserNotLoggedIn, "the user is not logged in");
  }
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  bool must_change = false;
  // A wrong PIN leaves the operation as it was (still waiting).
  SecretBytes key;
  {
    PinCheckLock::Guard serialized(pin_lock_);
    CV_ASSIGN_OR_RETURN(key, VerifyPin(*store, s.token, UserType::kUser, pin, &must_change));
  }
  if (must_change) return Status(Reason::kPinExpired, "the PIN must be changed (C_SetPIN)");
  (*target)->context_login_done = true;
  s.awaiting_context_login.reset();  // it was the target, or no longer waiting
  return OkStatus();
}

Status EmbeddedBackend::Logout(SessionHandle handle) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, FindSession(handle));
  {
    std::unique_lock<std::shared_mutex> lock(s->runtime->mu);
    if (!s->runtime->login) return Status(Reason::kUserNotLoggedIn, "not logged in");
    LogoutLocked(*s->runtime);
  }
  DropSpares(s->token);  // they hold parsed (private) keys
  return OkStatus();
}

Status EmbeddedBackend::InitPinUnlogged(SessionHandle handle, const SecretBytes& pin) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  CV_RETURN_IF_ERROR(CheckPinPolicy(pin, /*so=*/false));
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  CV_ASSIGN_OR_RETURN(storage::TokenRow token, store->GetToken(s->token));
  std::shared_lock<std::shared_mutex> lock(s->runtime->mu);
  if (s->runtime->login != UserType::kSo) return Status(Reason::kUserNotLoggedIn, "C_InitPIN needs the SO");
  if (!s->rw()) return Status(Reason::kSessionReadOnly, "C_InitPIN needs a R/W session");
  // The token's PIN policy (its flags) is used only once verified.
  CV_RETURN_IF_ERROR(OpenTokenState(s->runtime->integrity_key, token).status());
  CV_ASSIGN_OR_RETURN(storage::AuthRow row, SealTokenKey(s->token, storage::Role::kUser, pin, s->runtime->token_key,
                                                         config_.kdf, config_.pin_max_tries));
  if (token.flags & kTokenFlagUserPinMustChange) row.flags |= kAuthFlagMustChange;
  PinCheckLock::Guard serialized(pin_lock_);  // no PIN check of the old row runs meanwhile
  return store->PutAuth(row);  // the SO's reset: full tries, a fresh anchor
}

Status EmbeddedBackend::SetPinUnlogged(SessionHandle handle, const SecretBytes& old_pin, const SecretBytes& new_pin) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, FindSession(handle));  // also while the PIN is expired
  if (!s->rw()) return Status(Reason::kSessionReadOnly, "C_SetPIN needs a R/W session");
  // §5.5 C_SetPIN: the PIN of the logged-in user, else the normal user's.
  UserType user;
  {
    std::shared_lock<std::shared_mutex> lock(s->runtime->mu);
    user = s->runtime->login == UserType::kSo ? UserType::kSo : UserType::kUser;
  }
  CV_RETURN_IF_ERROR(CheckPinPolicy(new_pin, user == UserType::kSo));
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  SecretBytes key;
  {
    PinCheckLock::Guard serialized(pin_lock_);
    bool must_change = false;
    CV_ASSIGN_OR_RETURN(key, VerifyPin(*store, s->token, user, old_pin, &must_change));
    CV_ASSIGN_OR_RETURN(storage::AuthRow current, store->GetAuth(s->token, RoleOf(user)));
    CV_ASSIGN_OR_RETURN(storage::AuthRow row, SealTokenKey(s->token, RoleOf(user), new_pin, key, config_.kdf,
                                                           current.max_tries));
    CV_RETURN_IF_ERROR(store->PutAuth(row));  // fresh salt, full tries, must-change cleared
  }
  return PromoteExpiredLogin(*s, *store, user, std::move(key));
}

Status EmbeddedBackend::PromoteExpiredLogin(Session& s, storage::Store& store, UserType user, SecretBytes key) {
  {
    std::shared_lock<std::shared_mutex> lock(s.runtime->mu);
    if (!s.runtime->pin_expired.load(std::memory_order_acquire) || s.runtime->login != user) return OkStatus();
  }
  // The expired login had no keys, so the token was not checked: check it now,
  // exactly as a login does.
  CV_ASSIGN_OR_RETURN(SecretBytes ik, DeriveIntegrityKey(key));
  storage::TokenRow verified;
  CV_ASSIGN_OR_RETURN(LoginCheck check, CheckTokenAtLogin(store, s.token, ik, &verified));
  {
    std::unique_lock<std::shared_mutex> lock(s.runtime->mu);
    if (!s.runtime->pin_expired.load(std::memory_order_acquire) || s.runtime->login != user) return OkStatus();
    s.runtime->token_key = std::move(key);
    s.runtime->integrity_key = std::move(ik);
    s.runtime->damaged = check.damaged;
    s.runtime->newest_version = std::move(check.versions);
    s.runtime->key_cache.clear();
    s.runtime->pin_expired.store(false, std::memory_order_release);
    s.runtime->login_epoch.fetch_add(1, std::memory_order_acq_rel);
    local_changes_.fetch_add(1, std::memory_order_acq_rel);
  }
  AdoptVerifiedToken(verified);
  return OkStatus();
}

}  // namespace certvault::core
