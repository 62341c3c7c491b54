// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EmbeddedBackend: object management (PKCS#11 §5.7).
#include <algorithm>

#include "src/base/status_macros.h"
#include "src/core/embedded_backend.h"
#include "src/core/lifecycle.h"
#include "src/core/key_policy.h"
#include "src/core/policy.h"

namespace certvault::core {
namespace {

constexpr size_t kMaxCachedKeys = 4096;  // per token and process

// Indexed attributes answered by the store's query.
bool IsIndexed(AttributeType type) { return type == CKA_CLASS || type == CKA_LABEL || type == CKA_ID; }

// SetSecrets: gives `obj` the changed secret attributes `secrets` (the value
// of a private data object is the only modifiable one). A token object's are
// sealed in place of the old sealed value; a session object's stay in wiped
// memory. Never kept among the clear attributes: the record would then list
// the type twice (clear and sealed) and the new value would reach the disk.
Status SetSecrets(TokenRuntime& rt, const AttributeSet& secrets, Object* obj) {
  if (secrets.empty()) return OkStatus();
  if (!obj->token_object) {
    for (const Attribute& a : secrets.items()) obj->secrets.Set(a.type, a.value);
    return OkStatus();
  }
  std::shared_lock<std::shared_mutex> lock(rt.mu);
  return ReplaceSealedSecrets(rt.token_key, secrets, obj);
}

}  // namespace

Result<std::shared_ptr<const Object>> EmbeddedBackend::FetchObject(Session& s, ObjectHandle handle, Reason not_found) {
  bool logged_in_user;
  {
    std::shared_lock<std::shared_mutex> lock(s.runtime->mu);
    logged_in_user = s.runtime->login == UserType::kUser;
  }
  {
    std::shared_lock<std::shared_mutex> lock(session_objects_mu_);
    auto it = session_objects_.find(handle);
    if (it != session_objects_.end()) {
      const Object& o = *it->second;
      if (o.token != s.token || (o.is_private() && !logged_in_user)) return Status(not_found, "no such object");
      return std::shared_ptr<const Object>(it->second);
    }
  }
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  Result<storage::ObjectRow> row = store->GetObject(handle);
  if (!row.ok()) {
    if (row.status().code() == StatusCode::kNotFound) return Status(not_found, "no such object");
    return row.status();
  }
  if (row->token_id != s.token || (row->is_private && !logged_in_user)) return Status(not_found, "no such object");
  std::shared_ptr<Object> obj;
  {
    // Logged in: the record is verified (one HMAC); else it is only checked
    // for consistency, and public objects are used unverified
    // (docs/formats/integrity.md, "before login").
    std::shared_lock<std::shared_mutex> lock(s.runtime->mu);
    const SecretBytes* ik = s.runtime->integrity_key.empty() ? nullptr : &s.runtime->integrity_key;
    CV_ASSIGN_OR_RETURN(obj, FromRow(*row, ik));
  }
  CV_RETURN_IF_ERROR(CheckUsable(*s.runtime, *obj));
  return std::shared_ptr<const Object>(std::move(obj));
}

Result<KeyCacheEntry> EmbeddedBackend::CachedKey(TokenRuntime& rt, storage::Store& store, ObjectHandle handle,
                                                 uint64_t gen, std::chrono::steady_clock::time_point now) {
  KeyCacheEntry entry;
  {
    std::shared_lock<std::shared_mutex> lock(rt.mu);
    auto it = rt.key_cache.find(handle);
    if (it == rt.key_cache.end()) return NotFoundError("not cached");
    entry = it->second;
  }
  if (!entry.object->token_object) return entry;
  if (entry.validated_gen == gen && now - entry.validated_at < ChangeCounter::kMaxStaleness) return entry;
  // The vault changed since: one indexed lookup proves the key is still the
  // stored one (another process may have changed or deleted it).
  Result<uint64_t> version = store.GetObjectVersion(handle);
  if (!version.ok() || *version != entry.version) return NotFoundError("stale");
  std::unique_lock<std::shared_mutex> lock(rt.mu);
  auto it = rt.key_cache.find(handle);
  if (it != rt.key_cache.end() && it->second.object == entry.object) {
    it->second.validated_gen = gen;
    it->second.validated_at = now;
  }
  return entry;
}

Result<KeyCacheEntry> EmbeddedBackend::FetchKey(Session& s, ObjectHandle handle, Reason not_found) {
  TokenRuntime& rt = *s.runtime;
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  // Load the counter before any check, so a change committed after it is
  // seen at the next use.
  const uint64_t gen = changes_->Load();
  const auto now = std::chrono::steady_clock::now();
  Result<KeyCacheEntry> cached = CachedKey(rt, *store, handle, gen, now);
  if (cached.ok()) return cached;
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const Object> obj, FetchObject(s, handle, not_found));
  ObjectClass cls = obj->object_class();
  if (cls != CKO_PRIVATE_KEY && cls != CKO_PUBLIC_KEY && cls != CKO_SECRET_KEY) {
    return Status(not_found, "the object is not a key");
  }
  // A destroyed key keeps its record but no material: nothing to load.
  if (lifecycle::StoredState(obj->attrs) == lifecycle::KeyState::kDestroyed) {
    return Status(Reason::kKeyFunctionNotPermitted, "the key is destroyed");
  }
  // Parse the key with no lock held: LoadKey calls into OpenSSL, and nothing
  // that leaves certvault may run under the token lock. A call that comes
  // back into the module from there (a provider of the application, a test
  // hook) would otherwise wait forever for rt.mu on its own thread
  // (OpenSession, Login and Logout take it exclusively).
  SecretBytes token_key;
  uint64_t epoch;
  {
    std::shared_lock<std::shared_mutex> lock(rt.mu);
    token_key = rt.token_key.Clone();
    epoch = rt.login_epoch.load(std::memory_order_acquire);
  }
  Result<std::shared_ptr<const engine::ReadyKey>> key = Status(Reason::kFunctionFailed, "unreachable");
  if (cls == CKO_PUBLIC_KEY) {
    key = engine::LoadKey(obj->attrs, nullptr);
  } else {
    AttributeType secret_type = cls == CKO_PRIVATE_KEY ? kCvaKeyMaterial : CKA_VALUE;
    CV_ASSIGN_OR_RETURN(SecureVector clear, OpenSecret(*obj, secret_type, &token_key));
    SecretBytes material(std::move(clear));
    key = engine::LoadKey(obj->attrs, &material);
  }
  CV_RETURN_IF_ERROR(key.status());
  KeyCacheEntry entry{obj->version, gen, now, obj, *key};
  std::unique_lock<std::shared_mutex> write(rt.mu);
  // Cache only while the key's owner can use it: logout clears the cache.
  // A login or logout meanwhile (epoch) means the key was opened for another
  // state: return it to this caller, but do not keep it.
  if (cls == CKO_PUBLIC_KEY || (rt.login && rt.login_epoch.load(std::memory_order_acquire) == epoch)) {
    // Bounded: a vault of 100,000 keys used once each must not keep them all
    // parsed in memory. Evicting an arbitrary entry is enough: hot keys come
    // straight back on their next use.
    if (rt.key_cache.size() >= kMaxCachedKeys && rt.key_cache.count(handle) == 0) {
      rt.key_cache.erase(rt.key_cache.begin());
    }
    rt.key_cache[handle] = entry;
  }
  return entry;
}

Status EmbeddedBackend::CheckCreateAllowed(Session& s, const AttributeSet& attrs) {
  bool token = attrs.GetBoolOr(CKA_TOKEN, false);
  bool is_private = attrs.GetBoolOr(CKA_PRIVATE, true);
  if (token && !s.rw()) return Status(Reason::kSessionReadOnly, "token objects need a R/W session");
  std::shared_lock<std::shared_mutex> lock(s.runtime->mu);
  if (is_private && s.runtime->login != UserType::kUser) {
    return Status(Reason::kUserNotLoggedIn, "private objects need the user to be logged in");
  }
  if (policy::NeedsSecurityOfficer(attrs) && s.runtime->login != UserType::kSo) {
    return Status(Reason::kAttributeReadOnly, "only the SO may set CKA_TRUSTED");
  }
  return OkStatus();
}

Status EmbeddedBackend::CheckCapacity(storage::Store& store, const Session& s,
                                      const std::vector<storage::ObjectRow>& rows) {
  if (s.capacity == 0) return OkStatus();
  for (uint64_t cls : {uint64_t{CKO_PRIVATE_KEY}, uint64_t{CKO_CERTIFICATE}}) {
    uint64_t adding = std::count_if(rows.begin(), rows.end(), [cls](const auto& r) { return r.object_class == cls; });
    if (adding == 0) continue;
    CV_ASSIGN_OR_RETURN(uint64_t have, store.CountObjects(s.token, cls));
    CV_ASSIGN_OR_RETURN(uint64_t vault_own, VaultRoleCount(store, s.token, cls));  // issue 14: not the user's
    have -= std::min(have, vault_own);
    if (have + adding > s.capacity) {
      return Status(Reason::kCapacityExceeded, "the token is full (capacity " + std::to_string(s.capacity) + ")");
    }
  }
  return OkStatus();
}

Result<storage::ObjectRow> EmbeddedBackend::PublicTokenRow(const Object& obj, const AttributeSet& secrets) {
  // v3.0 §5.6 (session states): a R/W public session may create public token
  // objects; CheckCreateAllowed refused private ones already. Without the
  // token key nothing can be sealed, so secret material is refused here.
  if (!secrets.empty() || obj.is_private()) {
    return Status(Reason::kUserNotLoggedIn, "secret key material needs a logged-in user");
  }
  // No integrity key without a login: the row is stored unauthenticated
  // (docs/formats/integrity.md, "Before login").
  return ToRow(obj, nullptr);
}

Result<std::vector<ObjectHandle>> EmbeddedBackend::StoreNewObjects(Session& s, std::vector<NewObject> objects,
                                                                   const Object* replaced) {
  const SecretBytes ik = IntegrityKeyOf(*s.runtime);
  std::vector<storage::ObjectRow> rows;
  std::vector<std::shared_ptr<Object>> session_objs;
  std::vector<ObjectHandle> handles;
  for (NewObject& n : objects) {
    CV_RETURN_IF_ERROR(CheckCreateAllowed(s, n.attrs));
    AttributeSet secrets = SplitSecrets(&n.attrs);
    for (const Attribute& a : n.secrets.items()) secrets.Set(a.type, a.value);
    auto obj = std::make_shared<Object>();
    CV_ASSIGN_OR_RETURN(obj->id, NewObjectId());
    obj->token = s.token;
    obj->version = 1;  // the store's version of a new row
    obj->token_object = n.attrs.GetBoolOr(CKA_TOKEN, false);
    obj->owner = obj->token_object ? 0 : s.handle;
    obj->attrs = std::move(n.attrs);
    obj->attrs.SetString(policy::kCkaUniqueId, std::to_string(obj->id));
    lifecycle::StampNewKey(&obj->attrs, lifecycle::NowSeconds());
    if (obj->token_object) {
      std::shared_lock<std::shared_mutex> lock(s.runtime->mu);
      if (s.runtime->token_key.empty()) {
        CV_ASSIGN_OR_RETURN(storage::ObjectRow row, PublicTokenRow(*obj, secrets));
        rows.push_back(std::move(row));
      } else {
        CV_RETURN_IF_ERROR(SealSecrets(s.runtime->token_key, secrets, obj.get()));
        CV_ASSIGN_OR_RETURN(storage::ObjectRow row, ToRow(*obj, ik.empty() ? nullptr : &ik));
        rows.push_back(std::move(row));
      }
    } else {
      obj->secrets = std::move(secrets);
      session_objs.push_back(obj);
    }
    handles.push_back(obj->id);
  }
  if (!rows.empty()) {
    CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
    CV_RETURN_IF_ERROR(CommitObjects(*store, s.token, ik, replaced, rows, [&]() -> Status {
      if (replaced != nullptr) CV_RETURN_IF_ERROR(store->DeleteObject(replaced->id));
      CV_RETURN_IF_ERROR(CheckCapacity(*store, s, rows));
      return store->InsertObjects(rows);
    }));
  }
  std::unique_lock<std::shared_mutex> lock(session_objects_mu_);
  for (auto& o : session_objs) session_objects_[o->id] = o;
  return handles;
}

void EmbeddedBackend::DropSessionObjects(SessionHandle owner) {
  std::unique_lock<std::shared_mutex> lock(session_objects_mu_);
  std::erase_if(session_objects_, [owner](const auto& kv) { return kv.second->owner == owner; });
}

Result<ObjectHandle> EmbeddedBackend::CreateObjectUnlogged(SessionHandle handle, const AttributeSet& tmpl) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  std::optional<uint64_t> cls = tmpl.GetUlong(CKA_CLASS);
  if (!cls) return Status(Reason::kTemplateIncomplete, "CKA_CLASS is required");
  KeyType key_type = tmpl.GetUlong(CKA_KEY_TYPE).value_or(0);
  CV_ASSIGN_OR_RETURN(AttributeSet attrs, policy::ApplyTemplate(*cls, key_type, tmpl, policy::Origin::kCreate,
                                                                policy::kCkUnavailableInformation));
  NewObject n;
  if (*cls == CKO_PRIVATE_KEY || *cls == CKO_PUBLIC_KEY || *cls == CKO_SECRET_KEY) {
    CV_ASSIGN_OR_RETURN(engine::NewKey key, engine::ImportKey(tmpl));
    CV_RETURN_IF_ERROR(policy::MergeEngineAttributes(&attrs, key.attrs));
    CV_RETURN_IF_ERROR(CheckKeyAllowed(config_.policy.get(), attrs));  // policy.toml [algorithms]
    CV_RETURN_IF_ERROR(ApplyKeyPeriod(config_.policy.get(), &attrs, lifecycle::Today()));  // [crypto_periods]
    if (*cls == CKO_PRIVATE_KEY) n.secrets.Set(kCvaKeyMaterial, key.material.Bytes(SecretAccess::Get()));
    if (*cls == CKO_SECRET_KEY) n.secrets.Set(CKA_VALUE, key.material.Bytes(SecretAccess::Get()));
  }
  n.attrs = std::move(attrs);
  std::vector<NewObject> objs;
  objs.push_back(std::move(n));
  CV_ASSIGN_OR_RETURN(std::vector<ObjectHandle> handles, StoreNewObjects(*s, std::move(objs)));
  return handles.front();
}

Result<ObjectHandle> EmbeddedBackend::CopyObject(SessionHandle handle, ObjectHandle object, const AttributeSet& tmpl) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const Object> src, FetchObject(*s, object));
  // A copy is the same key: its dates obey the same rules as a change of the original's.
  CV_RETURN_IF_ERROR(lifecycle::CheckDateChange(src->attrs, tmpl, lifecycle::Today()));
  CV_RETURN_IF_ERROR(CheckKeyPeriodChange(config_.policy.get(), src->attrs, tmpl, lifecycle::Today()));
  CV_ASSIGN_OR_RETURN(AttributeSet merged, policy::CheckModify(src->attrs, tmpl, /*is_copy=*/true));
  merged.Erase(policy::kCkaUniqueId);  // the copy gets its own
  CV_ASSIGN_OR_RETURN(AttributeSet attrs,
                      policy::ApplyTemplate(src->object_class(), merged.GetUlong(CKA_KEY_TYPE).value_or(0), merged,
                                            policy::Origin::kCopy, 0));
  NewObject n;
  n.attrs = std::move(attrs);
  std::vector<AttributeType> secret_types;
  for (const Attribute& a : src->secrets.items()) secret_types.push_back(a.type);
  for (const storage::RecordEntry& e : src->sealed) secret_types.push_back(e.type);
  {
    std::shared_lock<std::shared_mutex> rt_lock(s->runtime->mu);
    for (AttributeType t : secret_types) {
      if (tmpl.Has(t)) continue;  // the template gives the copy a new value
      CV_ASSIGN_OR_RETURN(SecureVector v, OpenSecret(*src, t, &s->runtime->token_key));
      n.secrets.Set(t, v);
    }
  }
  std::vector<NewObject> objs;
  objs.push_back(std::move(n));
  CV_ASSIGN_OR_RETURN(std::vector<ObjectHandle> handles, StoreNewObjects(*s, std::move(objs)));
  return handles.front();
}

Result<ObjectHandle> EmbeddedBackend::ReplaceCertificateUnlogged(SessionHandle handle, ObjectHandle old,
                                                                 const AttributeSet& tmpl) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const Object> obj, FetchObject(*s, old));
  if (obj->object_class() != CKO_CERTIFICATE || !obj->token_object ||
      tmpl.GetUlong(CKA_CLASS) != std::optional<uint64_t>(CKO_CERTIFICATE) || !tmpl.GetBoolOr(CKA_TOKEN, false)) {
    return Status(Reason::kTemplateInconsistent, "only a token certificate replaces a token certificate");
  }
  if (!obj->attrs.GetBoolOr(CKA_DESTROYABLE, true)) {
    return Status(Reason::kActionProhibited, "the object has CKA_DESTROYABLE=FALSE");
  }
  if (!s->rw()) return Status(Reason::kSessionReadOnly, "replacing a token object needs a R/W session");
  CV_ASSIGN_OR_RETURN(AttributeSet attrs, policy::ApplyTemplate(CKO_CERTIFICATE, 0, tmpl, policy::Origin::kCreate,
                                                                policy::kCkUnavailableInformation));
  std::vector<NewObject> objs(1);
  objs[0].attrs = std::move(attrs);
  CV_ASSIGN_OR_RETURN(std::vector<ObjectHandle> handles, StoreNewObjects(*s, std::move(objs), obj.get()));
  changes_->Bump();
  std::unique_lock<std::shared_mutex> rt_lock(s->runtime->mu);
  s->runtime->key_cache.erase(old);
  return handles.front();
}

Status EmbeddedBackend::DestroyObjectUnlogged(SessionHandle handle, ObjectHandle object) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const Object> obj, FetchObject(*s, object));
  if (!obj->attrs.GetBoolOr(CKA_DESTROYABLE, true)) {
    return Status(Reason::kActionProhibited, "the object has CKA_DESTROYABLE=FALSE");
  }
  if (obj->token_object) {
    if (!s->rw()) return Status(Reason::kSessionReadOnly, "destroying a token object needs a R/W session");
    CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
    CV_RETURN_IF_ERROR(CommitObjects(*store, s->token, IntegrityKeyOf(*s->runtime), obj.get(), {},
                                     [&] { return store->DeleteObject(object); }));
    changes_->Bump();
  } else {
    std::unique_lock<std::shared_mutex> objects_lock(session_objects_mu_);
    session_objects_.erase(object);
    local_changes_.fetch_add(1, std::memory_order_acq_rel);
    changes_->Bump();  // operations kept for reuse (ReuseSpare) must not outlive the key
  }
  std::unique_lock<std::shared_mutex> rt_lock(s->runtime->mu);
  s->runtime->key_cache.erase(object);
  return OkStatus();
}

Result<uint64_t> EmbeddedBackend::GetObjectSize(SessionHandle handle, ObjectHandle object) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const Object> obj, FetchObject(*s, object));
  std::vector<storage::RecordEntry> entries;
  for (const Attribute& a : obj->attrs.items()) entries.push_back({a.type, false, a.value});
  for (const storage::RecordEntry& e : obj->sealed) entries.push_back({e.type, true, e.value});
  return static_cast<uint64_t>(storage::EncodeRecordBody(entries).size());
}

Result<SecureVector> EmbeddedBackend::ReadAttribute(Session& s, const Object& obj, AttributeType type,
                                                    Reason* out_reason) {
  *out_reason = Reason::kNone;
  if (const Attribute* a = obj.attrs.Find(type)) return a->value;
  if (obj.HasSecret(type)) {
    std::shared_lock<std::shared_mutex> lock(s.runtime->mu);
    Result<SecureVector> v = OpenSecret(obj, type, &s.runtime->token_key);
    // Without the token key a secret cannot be shown: report it as sensitive.
    if (!v.ok() && v.status().reason() == Reason::kUserNotLoggedIn) *out_reason = Reason::kAttributeSensitive;
    return v;
  }
  if (obj.object_class() == CKO_PRIVATE_KEY && policy::IsSecretAttribute(CKO_PRIVATE_KEY, type)) {
    // A non-sensitive private key: components come from its PKCS#8 material.
    CV_ASSIGN_OR_RETURN(KeyCacheEntry entry, FetchKey(s, obj.id, Reason::kObjectHandleInvalid));
    Result<SecureVector> v = engine::PrivateComponent(*entry.key, type);
    if (!v.ok()) *out_reason = Reason::kAttributeTypeInvalid;
    return v;
  }
  const ObjectClass cls = obj.object_class();
  if (type == CKA_ALLOWED_MECHANISMS && (cls == CKO_PRIVATE_KEY || cls == CKO_PUBLIC_KEY || cls == CKO_SECRET_KEY)) {
    // v3.0 §4.7: a common key attribute, so every key has it; a key created
    // without one allows every mechanism, shown as an empty array.
    // CKR_ATTRIBUTE_TYPE_INVALID here makes clients that probe it (e.g.
    // OpenSSL's pkcs11-provider) misjudge RSA-PSS-only keys.
    return SecureVector();
  }
  if (type == kCkaCvKeyState && lifecycle::IsKey(obj.attrs)) {
    // A key stored before lifecycle states existed counts as active (lifecycle.h).
    return EncodeUlong(kCvStateActive);
  }
  *out_reason = Reason::kAttributeTypeInvalid;
  return Status(Reason::kAttributeTypeInvalid, "no such attribute");
}

Status EmbeddedBackend::GetAttributeValue(SessionHandle handle, ObjectHandle object,
                                          std::vector<AttributeRequest>* requests) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const Object> obj, FetchObject(*s, object));
  bool sensitive = false, invalid = false;
  for (AttributeRequest& req : *requests) {
    req.value.clear();
    req.status = (req.type == kCvaKeyMaterial) ? Reason::kAttributeTypeInvalid : policy::Readable(obj->attrs, req.type);
    if (req.status == Reason::kNone) {
      Reason reason;
      Result<SecureVector> v = ReadAttribute(*s, *obj, req.type, &reason);
      if (v.ok()) {
        req.value = std::move(*v);
      } else if (reason != Reason::kNone) {
        req.status = reason;
      } else {
        return v.status();  // a real failure (corrupt store), not a per-attribute answer
      }
    }
    sensitive |= req.status == Reason::kAttributeSensitive;
    invalid |= req.status == Reason::kAttributeTypeInvalid;
  }
  if (sensitive) return Status(Reason::kAttributeSensitive, "an attribute is sensitive");
  if (invalid) return Status(Reason::kAttributeTypeInvalid, "an attribute is not valid for the object");
  return OkStatus();
}

Status EmbeddedBackend::SetAttributeValueUnlogged(SessionHandle handle, ObjectHandle object, const AttributeSet& tmpl) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const Object> obj, FetchObject(*s, object));
  if (obj->token_object && !s->rw()) return Status(Reason::kSessionReadOnly, "token objects need a R/W session");
  {
    std::shared_lock<std::shared_mutex> rt_lock(s->runtime->mu);
    if (policy::NeedsSecurityOfficer(tmpl) && s->runtime->login != UserType::kSo) {
      return Status(Reason::kAttributeReadOnly, "only the SO may set CKA_TRUSTED");
    }
  }
  // The lifecycle state changes only by its own path (lifecycle.h).
  if (lifecycle::IsTransitionRequest(tmpl)) return CommitTransition(*s, *obj, tmpl);
  CV_RETURN_IF_ERROR(lifecycle::CheckDateChange(obj->attrs, tmpl, lifecycle::Today()));
  CV_RETURN_IF_ERROR(CheckKeyPeriodChange(config_.policy.get(), obj->attrs, tmpl, lifecycle::Today()));
  CV_ASSIGN_OR_RETURN(AttributeSet merged, policy::CheckModify(obj->attrs, tmpl, /*is_copy=*/false));
  AttributeSet secrets = SplitSecrets(&merged);
  auto updated = std::make_shared<Object>(*obj);
  updated->attrs = std::move(merged);
  updated->version = obj->version + 1;
  CV_RETURN_IF_ERROR(SetSecrets(*s->runtime, secrets, updated.get()));
  return PersistUpdate(*s, *obj, std::move(updated));
}

Status EmbeddedBackend::PersistUpdate(Session& s, const Object& old, std::shared_ptr<Object> updated) {
  const ObjectHandle object = old.id;
  if (old.token_object) {
    CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
    const SecretBytes ik = IntegrityKeyOf(*s.runtime);
    CV_ASSIGN_OR_RETURN(storage::ObjectRow row, ToRow(*updated, ik.empty() ? nullptr : &ik));
    CV_RETURN_IF_ERROR(CommitObjects(*store, s.token, ik, &old, {row}, [&] { return store->UpdateObject(row); }));
    changes_->Bump();
    // Committed: the version only grew, so this cannot report a rollback.
    (void)NoteVersion(*s.runtime, object, row.version);
  } else {
    std::unique_lock<std::shared_mutex> objects_lock(session_objects_mu_);
    session_objects_[object] = std::move(updated);
    local_changes_.fetch_add(1, std::memory_order_acq_rel);
    changes_->Bump();  // operations kept for reuse (ReuseSpare) revalidate this key too
  }
  std::unique_lock<std::shared_mutex> rt_lock(s.runtime->mu);
  s.runtime->key_cache.erase(object);
  return OkStatus();
}

static bool Matches(const Object& obj, const AttributeSet& tmpl) {
  for (const Attribute& want : tmpl.items()) {
    const Attribute* have = obj.attrs.Find(want.type);
    // Secret values never match: a find must not become a guessing oracle.
    if (have == nullptr || have->value != want.value) return false;
  }
  return true;
}

Result<std::vector<ObjectHandle>> EmbeddedBackend::FindCandidates(Session& s, const AttributeSet& tmpl) {
  bool user;
  {
    std::shared_lock<std::shared_mutex> lock(s.runtime->mu);
    user = s.runtime->login == UserType::kUser;
  }
  storage::ObjectQuery q;
  q.token_id = s.token;
  q.include_private = user;
  if (auto cls = tmpl.GetUlong(CKA_CLASS)) q.object_class = *cls;
  if (auto label = tmpl.GetBytes(CKA_LABEL)) q.label = Bytes(label->begin(), label->end());
  if (auto id = tmpl.GetBytes(CKA_ID)) q.ckid = Bytes(id->begin(), id->end());
  if (tmpl.Has(CKA_CLASS) && !q.object_class) return std::vector<ObjectHandle>{};  // malformed class: no match
  std::vector<ObjectHandle> out;
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  CV_ASSIGN_OR_RETURN(std::vector<storage::ObjectId> ids, store->FindObjects(q));
  bool needs_filter = std::any_of(tmpl.items().begin(), tmpl.items().end(),
                                  [](const Attribute& a) { return !IsIndexed(a.type); });
  for (storage::ObjectId id : ids) {
    if (needs_filter) {
      Result<std::shared_ptr<const Object>> obj = FetchObject(s, id);
      if (!obj.ok() || !Matches(**obj, tmpl)) continue;  // deleted meanwhile, or no match
    }
    out.push_back(id);
  }
  std::shared_lock<std::shared_mutex> lock(session_objects_mu_);
  for (const auto& [id, obj] : session_objects_) {
    if (obj->token == s.token && (user || !obj->is_private()) && Matches(*obj, tmpl)) {
      out.push_back(id);
    }
  }
  return out;
}

Status EmbeddedBackend::FindObjectsInit(SessionHandle handle, const AttributeSet& tmpl) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->find.active) return Status(Reason::kOperationActive, "a find is already active");
  CV_ASSIGN_OR_RETURN(std::vector<ObjectHandle> results, FindCandidates(*s, tmpl));
  s->find = FindState{true, std::move(results), 0};
  return OkStatus();
}

Result<std::vector<ObjectHandle>> EmbeddedBackend::FindObjects(SessionHandle handle, size_t max) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->find.active) return Status(Reason::kOperationNotInitialized, "C_FindObjectsInit was not called");
  size_t n = std::min(max, s->find.results.size() - s->find.pos);
  auto first = s->find.results.begin() + static_cast<std::ptrdiff_t>(s->find.pos);
  std::vector<ObjectHandle> out(first, first + static_cast<std::ptrdiff_t>(n));
  s->find.pos += n;
  return out;
}

Status EmbeddedBackend::FindObjectsFinal(SessionHandle handle) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->find.active) return Status(Reason::kOperationNotInitialized, "C_FindObjectsInit was not called");
  s->find = FindState{};
  return OkStatus();
}

}  // namespace certvault::core
