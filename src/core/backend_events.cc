// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EmbeddedBackend: the calls that change a token, with their event-log
// records (docs/formats/event-log.md). Each one runs the unlogged call and
// records its outcome; a failure to write the log never changes that
// outcome. What is logged: PIN use (logins, lockouts, C_SetPIN, C_InitPIN,
// C_InitToken), and token keys made (generated, imported, unwrapped,
// derived), destroyed token objects and changed attributes. Session objects
// are not logged (they vanish with the session), except a session key that
// policy.toml refuses (a policy_violation like a token key's); nor is any
// cryptographic operation (C_Sign pays nothing).
#include <cstdio>

#include "src/base/status_macros.h"
#include "src/core/embedded_backend.h"

namespace certvault::core {
namespace {

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string LabelOf(const AttributeSet& tmpl) {
  std::optional<std::span<const uint8_t>> label = tmpl.GetBytes(CKA_LABEL);
  return label ? std::string(label->begin(), label->end()) : std::string();
}

bool IsKeyClass(uint64_t cls) { return cls == CKO_PRIVATE_KEY || cls == CKO_PUBLIC_KEY || cls == CKO_SECRET_KEY; }

// KeyEvent: the event of an operation that makes a key per `tmpl`. A
// session object's (CKA_TOKEN false) is only recorded when policy.toml
// refuses it (violations_only; issue 17: every violation is logged).
audit::Event KeyEvent(std::string_view action, const AttributeSet& tmpl, std::string detail) {
  if (!tmpl.GetBoolOr(CKA_TOKEN, false)) detail = "session object; " + detail;
  return audit::Event{std::string(action), 0, LabelOf(tmpl), "ok", std::move(detail)};
}

bool SessionObject(const AttributeSet& tmpl) { return !tmpl.GetBoolOr(CKA_TOKEN, false); }

}  // namespace

void EmbeddedBackend::SetEventPeer(int64_t uid, int64_t pid, const std::string& exe) { events_.SetPeer(uid, pid, exe); }

void EmbeddedBackend::RecordFor(SessionHandle handle, audit::Event event) {
  if (!events_.enabled()) return;
  Result<std::shared_ptr<Session>> s = FindSession(handle);
  Result<storage::Store*> store = Store();
  if (!s.ok() || !store.ok()) return;
  std::optional<UserType> login;
  {
    std::shared_lock<std::shared_mutex> lock((*s)->runtime->mu);
    login = (*s)->runtime->login;
  }
  (void)events_.Record(**store, (*s)->token, EventRecorder::RoleName(login), std::move(event));
}

PendingEvent EmbeddedBackend::StartPending(SessionHandle handle, audit::Event event, bool violations_only) {
  PendingEvent p;
  p.event = std::move(event);
  p.violations_only = violations_only;
  Result<std::shared_ptr<Session>> s = FindSession(handle);
  if (!events_.enabled() || !s.ok()) return p;
  std::shared_lock<std::shared_mutex> lock((*s)->runtime->mu);
  p.recorder = &events_;
  p.token = (*s)->token;
  p.role = EventRecorder::RoleName((*s)->runtime->login);
  return p;
}

void EmbeddedBackend::FinishPending(PendingEvent& p, const Status& status) {
  if (p.recorder == nullptr || (status.ok() && p.committed)) return;
  if (p.violations_only && (status.ok() || p.event.action != "policy_violation")) return;
  Result<storage::Store*> store = Store();
  if (!store.ok()) return;
  audit::Event e = std::move(p.event);
  e.result = EventRecorder::ResultOf(status);
  if (!status.ok()) e.detail += (e.detail.empty() ? "" : "; ") + std::string(status.message());
  (void)events_.Record(**store, p.token, p.role, std::move(e));
}

bool EmbeddedBackend::TokenObjectLabel(ObjectHandle object, std::string* out_label) {
  {
    std::shared_lock<std::shared_mutex> lock(session_objects_mu_);
    if (session_objects_.count(object) != 0) return false;
  }
  Result<storage::Store*> store = Store();
  if (!store.ok()) return false;
  Result<storage::ObjectRow> row = (*store)->GetObject(object);
  if (!row.ok()) return false;
  out_label->assign(row->label.begin(), row->label.end());
  return true;
}

void EmbeddedBackend::UnlockEvents(SessionHandle handle) {
  if (!events_.enabled()) return;
  Result<std::shared_ptr<Session>> s = FindSession(handle);
  Result<storage::Store*> store = Store();
  if (!s.ok() || !store.ok()) return;
  SecretBytes key;
  {
    std::shared_lock<std::shared_mutex> lock((*s)->runtime->mu);
    if ((*s)->runtime->token_key.empty()) return;  // an expired PIN: no key yet
    key = (*s)->runtime->token_key.Clone();
  }
  (void)events_.Unlock(**store, (*s)->token, key);
}

Status EmbeddedBackend::InitTokenWithOptions(SlotId slot, const SecretBytes& so_pin, std::string_view label,
                                             const TokenOptions& options) {
  Status s = InitTokenUnlogged(slot, so_pin, label, options);
  // Success is recorded by CreateToken (with the audit key rollover); after a
  // failure, the old key opened by the SO PIN check is not kept.
  if (!s.ok()) events_.Lock(slot);
  Result<storage::Store*> store = Store();
  if (!s.ok() && store.ok() && (*store)->GetToken(slot).ok()) {
    (void)events_.Record(**store, slot, "so",
                         {"init_token", 0, std::string(label), EventRecorder::ResultOf(s), std::string(s.message())});
  }
  return s;
}

Status EmbeddedBackend::Login(SessionHandle handle, UserType user, const SecretBytes& pin) {
  Status s = LoginUnlogged(handle, user, pin);
  if (s.reason() == Reason::kSessionHandleInvalid || s.reason() == Reason::kUserAlreadyLoggedIn) return s;
  const bool context = user == UserType::kContextSpecific;
  if (s.ok() && !context) UnlockEvents(handle);  // a context login keeps the login's key
  audit::Event e{context ? "context_login" : "login", 0, "", EventRecorder::ResultOf(s), std::string(s.message())};
  if (!context) e.detail = "as " + EventRecorder::RoleName(user) + (s.ok() ? "" : ": " + e.detail);
  RecordFor(handle, std::move(e));
  return s;
}

Status EmbeddedBackend::InitPin(SessionHandle handle, const SecretBytes& pin) {
  Status s = InitPinUnlogged(handle, pin);
  if (s.reason() != Reason::kSessionHandleInvalid) {
    RecordFor(handle, {"init_pin", 0, "", EventRecorder::ResultOf(s), std::string(s.message())});
  }
  return s;
}

Status EmbeddedBackend::SetPin(SessionHandle handle, const SecretBytes& old_pin, const SecretBytes& new_pin) {
  Status s = SetPinUnlogged(handle, old_pin, new_pin);
  if (s.reason() == Reason::kSessionHandleInvalid) return s;
  if (s.ok()) UnlockEvents(handle);  // an expired login became a full one
  RecordFor(handle, {"set_pin", 0, "", EventRecorder::ResultOf(s), std::string(s.message())});
  return s;
}

Result<ObjectHandle> EmbeddedBackend::CreateObject(SessionHandle handle, const AttributeSet& tmpl) {
  std::optional<uint64_t> cls = tmpl.GetUlong(CKA_CLASS);
  if (!cls || !IsKeyClass(*cls)) return CreateObjectUnlogged(handle, tmpl);
  PendingEvent p = StartPending(handle, KeyEvent("import_key", tmpl, "class " + Hex(*cls)), SessionObject(tmpl));
  Result<ObjectHandle> made = [&] {
    PendingEventScope scope(&p);
    return CreateObjectUnlogged(handle, tmpl);
  }();
  FinishPending(p, made.status());
  return made;
}

Status EmbeddedBackend::DestroyObject(SessionHandle handle, ObjectHandle object) {
  std::string label;
  if (!events_.enabled() || !TokenObjectLabel(object, &label)) return DestroyObjectUnlogged(handle, object);
  PendingEvent p = StartPending(handle, {"destroy_object", object, label});
  Status s = [&] {
    PendingEventScope scope(&p);
    return DestroyObjectUnlogged(handle, object);
  }();
  FinishPending(p, s);
  return s;
}

Result<ObjectHandle> EmbeddedBackend::ReplaceCertificate(SessionHandle handle, ObjectHandle old,
                                                         const AttributeSet& tmpl) {
  std::string label;
  if (!events_.enabled() || !TokenObjectLabel(old, &label)) return ReplaceCertificateUnlogged(handle, old, tmpl);
  PendingEvent p = StartPending(handle, {"replace_certificate", old, label});
  Result<ObjectHandle> made = [&] {
    PendingEventScope scope(&p);
    return ReplaceCertificateUnlogged(handle, old, tmpl);
  }();
  FinishPending(p, made.status());
  return made;
}

Status EmbeddedBackend::SetAttributeValue(SessionHandle handle, ObjectHandle object, const AttributeSet& tmpl) {
  std::string label;
  if (!events_.enabled() || !TokenObjectLabel(object, &label)) return SetAttributeValueUnlogged(handle, object, tmpl);
  std::string types = "attributes";
  for (const Attribute& a : tmpl.items()) types += " " + Hex(a.type);
  PendingEvent p = StartPending(handle, {"set_attribute", object, label, "ok", types});
  Status s = [&] {
    PendingEventScope scope(&p);
    return SetAttributeValueUnlogged(handle, object, tmpl);
  }();
  FinishPending(p, s);
  return s;
}

Result<ObjectHandle> EmbeddedBackend::GenerateKey(SessionHandle handle, const Mechanism& mech,
                                                  const AttributeSet& tmpl) {
  PendingEvent p =
      StartPending(handle, KeyEvent("generate_key", tmpl, "mechanism " + Hex(mech.type)), SessionObject(tmpl));
  Result<ObjectHandle> made = [&] {
    PendingEventScope scope(&p);
    return GenerateKeyUnlogged(handle, mech, tmpl);
  }();
  FinishPending(p, made.status());
  return made;
}

Result<Backend::KeyPair> EmbeddedBackend::GenerateKeyPair(SessionHandle handle, const Mechanism& mech,
                                                          const AttributeSet& public_tmpl,
                                                          const AttributeSet& private_tmpl) {
  PendingEvent p = StartPending(handle, KeyEvent("generate_key_pair", private_tmpl, "mechanism " + Hex(mech.type)),
                                SessionObject(private_tmpl));
  Result<KeyPair> pair = [&] {
    PendingEventScope scope(&p);
    return GenerateKeyPairUnlogged(handle, mech, public_tmpl, private_tmpl);
  }();
  FinishPending(p, pair.status());
  return pair;
}

Result<ObjectHandle> EmbeddedBackend::UnwrapKey(SessionHandle handle, const Mechanism& mech,
                                                ObjectHandle unwrapping_key, std::span<const uint8_t> wrapped,
                                                const AttributeSet& tmpl) {
  PendingEvent p = StartPending(
      handle,
      KeyEvent("unwrap_key", tmpl, "mechanism " + Hex(mech.type) + " unwrapping key " + std::to_string(unwrapping_key)),
      SessionObject(tmpl));
  Result<ObjectHandle> made = [&] {
    PendingEventScope scope(&p);
    return UnwrapKeyUnlogged(handle, mech, unwrapping_key, wrapped, tmpl);
  }();
  FinishPending(p, made.status());
  return made;
}

Result<ObjectHandle> EmbeddedBackend::DeriveKey(SessionHandle handle, const Mechanism& mech, ObjectHandle base_key,
                                                const AttributeSet& tmpl) {
  PendingEvent p = StartPending(
      handle, KeyEvent("derive_key", tmpl, "mechanism " + Hex(mech.type) + " base key " + std::to_string(base_key)),
      SessionObject(tmpl));
  Result<ObjectHandle> made = [&] {
    PendingEventScope scope(&p);
    return DeriveKeyUnlogged(handle, mech, base_key, tmpl);
  }();
  FinishPending(p, made.status());
  return made;
}

}  // namespace certvault::core
