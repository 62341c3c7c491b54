// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/core/event_recorder.h"

#include "src/base/status_macros.h"
#include "src/core/auth.h"
#include "src/core/integrity.h"

namespace certvault::core {
namespace {

thread_local PendingEvent* t_pending = nullptr;

}  // namespace

PendingEventScope::PendingEventScope(PendingEvent* pending) : previous_(t_pending) { t_pending = pending; }

PendingEventScope::~PendingEventScope() { t_pending = previous_; }

void RenamePendingEvent(std::string action, std::string detail) {
  if (t_pending == nullptr || t_pending->committed) return;
  t_pending->event.action = std::move(action);
  t_pending->event.detail = std::move(detail);
}

void MarkPolicyViolation(const std::string& rule) {
  if (t_pending == nullptr || t_pending->committed || t_pending->event.action == "policy_violation") return;
  std::string detail = t_pending->event.action + " refused by policy.toml " + rule;
  if (!t_pending->event.detail.empty()) detail += "; " + t_pending->event.detail;
  RenamePendingEvent("policy_violation", std::move(detail));
}

Status EventRecorder::CommitPending(storage::Store& store, storage::TokenId token, storage::ObjectId removed,
                                    const std::vector<storage::ObjectRow>& added) {
  PendingEvent* p = t_pending;
  if (p == nullptr || p->committed || p->violations_only || p->token != token || p->recorder == nullptr ||
      !p->recorder->enabled_) {
    return OkStatus();
  }
  audit::Event e = p->event;
  const storage::ObjectRow* target = added.empty() ? nullptr : &added.front();
  for (const storage::ObjectRow& r : added) {
    if (r.object_class == CKO_PRIVATE_KEY) target = &r;
  }
  if (e.target_id == 0 && target != nullptr) {  // a new object: the one written
    e.target_id = target->object_id;
    e.target_label.assign(target->label.begin(), target->label.end());
  } else if (e.target_id == 0) {
    e.target_id = removed;
  }
  std::shared_ptr<audit::AuditSigner> signer = p->recorder->SignerOf(token);
  CV_RETURN_IF_ERROR(audit::AppendEvent(store, token, p->recorder->ActorFor(p->role), e, signer.get()).status());
  p->committed = true;
  return OkStatus();
}

EventRecorder::EventRecorder(bool enabled) : enabled_(enabled), actor_(audit::SelfActor()) {}

void EventRecorder::SetPeer(int64_t uid, int64_t pid, std::string exe) {
  std::lock_guard<std::mutex> lock(mu_);
  actor_.mode = "daemon";
  actor_.uid = uid;
  actor_.pid = pid;
  actor_.exe = std::move(exe);
}

audit::Actor EventRecorder::ActorFor(std::string_view role) {
  std::lock_guard<std::mutex> lock(mu_);
  audit::Actor a = actor_;
  a.role = std::string(role);
  return a;
}

std::shared_ptr<audit::AuditSigner> EventRecorder::SignerOf(storage::TokenId token) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = signers_.find(token);
  return it == signers_.end() ? nullptr : it->second;
}

namespace {

// KeyRequired: the token's verified row says it was made with the event log
// (kTokenFlagEventLog), so a missing audit key was removed, not never made.
// A row that does not verify (a legacy token without a state) cannot say so.
bool KeyRequired(storage::Store& store, storage::TokenId token, const SecretBytes& token_key) {
  Result<storage::TokenRow> row = store.GetToken(token);
  Result<SecretBytes> ik = DeriveIntegrityKey(token_key);
  if (!row.ok() || !ik.ok() || !OpenTokenState(*ik, *row).ok()) return false;
  return (row->flags & kTokenFlagEventLog) != 0;
}

}  // namespace

Result<std::shared_ptr<audit::AuditSigner>> EventRecorder::OpenNewest(storage::Store& store, storage::TokenId token,
                                                                      const SecretBytes& token_key) {
  std::shared_ptr<audit::AuditSigner> out;
  CV_RETURN_IF_ERROR(store.RunExclusive([&]() -> Status {
    CV_ASSIGN_OR_RETURN(std::vector<storage::AuditKeyRow> keys, store.ListAuditKeys(token));
    if (keys.empty()) {  // a token from before the event log: its first key, now
      if (KeyRequired(store, token, token_key)) {
        return Status(Reason::kCorruptStore, "the audit keys of token " + std::to_string(token) +
                                                 " were removed from the file; its log is not signed until it is "
                                                 "re-initialized");
      }
      storage::AuditKeyRow row;
      CV_ASSIGN_OR_RETURN(std::unique_ptr<audit::AuditSigner> made,
                          audit::AuditSigner::Create(token, 1, token_key, &row));
      CV_RETURN_IF_ERROR(store.InsertAuditKey(row));
      out = std::move(made);
      return OkStatus();
    }
    CV_ASSIGN_OR_RETURN(std::unique_ptr<audit::AuditSigner> opened, audit::AuditSigner::Open(keys.back(), token_key));
    out = std::move(opened);
    return OkStatus();
  }));
  return out;
}

Status EventRecorder::Unlock(storage::Store& store, storage::TokenId token, const SecretBytes& token_key) {
  if (!enabled_) return OkStatus();
  Result<std::shared_ptr<audit::AuditSigner>> signer = OpenNewest(store, token, token_key);
  if (!signer.ok()) {
    audit::Event e{"audit_key_check", 0, "", ResultOf(signer.status()), std::string(signer.status().message())};
    (void)audit::AppendEvent(store, token, ActorFor("public"), e, nullptr);
    return signer.status();
  }
  std::lock_guard<std::mutex> lock(mu_);
  signers_[token] = std::move(*signer);
  return OkStatus();
}

void EventRecorder::Lock(storage::TokenId token) {
  std::lock_guard<std::mutex> lock(mu_);
  signers_.erase(token);
}

Status EventRecorder::OnTokenInit(storage::Store& store, storage::TokenId token, const SecretBytes& new_token_key,
                                  std::string_view label) {
  if (!enabled_) return OkStatus();
  std::shared_ptr<audit::AuditSigner> old = SignerOf(token);
  const audit::Actor so = ActorFor("so");
  std::shared_ptr<audit::AuditSigner> made;
  Status s = store.RunExclusive([&]() -> Status {
    CV_ASSIGN_OR_RETURN(std::vector<storage::AuditKeyRow> keys, store.ListAuditKeys(token));
    const uint32_t next = keys.empty() ? 1 : keys.back().key_no + 1;
    storage::AuditKeyRow row;
    CV_ASSIGN_OR_RETURN(std::unique_ptr<audit::AuditSigner> signer,
                        audit::AuditSigner::Create(token, next, new_token_key, &row));
    if (next > 1) {  // announced by the previous key (unsigned if it was not opened)
      CV_ASSIGN_OR_RETURN(std::string detail, audit::RolloverDetail(next, row.public_key));
      audit::Event e{audit::kKeyRollover, 0, "", "ok", detail};
      CV_RETURN_IF_ERROR(audit::AppendEvent(store, token, so, e, old.get()).status());
    }
    CV_RETURN_IF_ERROR(store.InsertAuditKey(row));
    made = std::move(signer);
    return audit::AppendEvent(store, token, so, audit::Event{"init_token", 0, std::string(label)}, made.get()).status();
  });
  Lock(token);
  return s;
}

Status EventRecorder::Record(storage::Store& store, storage::TokenId token, std::string_view role, audit::Event event) {
  if (!enabled_) return OkStatus();
  std::shared_ptr<audit::AuditSigner> signer = SignerOf(token);
  return audit::AppendEvent(store, token, ActorFor(role), event, signer.get()).status();
}

std::string EventRecorder::RoleName(std::optional<UserType> user) {
  if (!user) return "public";
  switch (*user) {
    case UserType::kSo:
      return "so";
    case UserType::kUser:
      return "user";
    case UserType::kContextSpecific:
      return "context";
    default:
      return "unknown";
  }
}

std::string EventRecorder::ResultOf(const Status& status) {
  if (status.ok()) return "ok";
  switch (status.reason()) {  // the PIN outcomes an auditor looks for
    case Reason::kPinIncorrect:
      return "pin_incorrect";
    case Reason::kPinLocked:
      return "pin_locked";
    case Reason::kPinExpired:
      return "pin_expired";
    case Reason::kPinLenRange:
      return "pin_len_range";
    case Reason::kUserPinNotInitialized:
      return "user_pin_not_initialized";
    default:
      return std::string(StatusCodeName(status.code()));
  }
}

}  // namespace certvault::core
