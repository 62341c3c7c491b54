// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Vault: finding objects and the private-key operations (see vault.h).
#include <cstring>
#include <optional>

#include "src/base/status_macros.h"
#include "src/provider/vault.h"
#include "src/provider/vault_state.h"

namespace certvault::provider {
namespace {

constexpr size_t kMaxOutput = 2048;  // an RSA-16384 block; any ECDSA/EdDSA signature

uint64_t UlongOf(const SecureVector& v) {
  uint64_t out = 0;
  if (v.size() == sizeof(out)) std::memcpy(&out, v.data(), sizeof(out));
  return out;
}

Result<std::vector<ObjectHandle>> FindAll(Backend& backend, SessionHandle session, const AttributeSet& tmpl) {
  CV_RETURN_IF_ERROR(backend.FindObjectsInit(session, tmpl));
  std::vector<ObjectHandle> out;
  for (;;) {
    Result<std::vector<ObjectHandle>> more = backend.FindObjects(session, 64);
    if (!more.ok() || more->empty()) {
      (void)backend.FindObjectsFinal(session);
      if (!more.ok()) return more.status();
      return out;
    }
    out.insert(out.end(), more->begin(), more->end());
  }
}

AttributeSet ObjectTemplate(const Pkcs11Uri& uri, ObjectClass cls) {
  AttributeSet tmpl;
  tmpl.SetUlong(CKA_CLASS, cls);
  if (uri.object) tmpl.SetString(CKA_LABEL, *uri.object);
  if (uri.id) tmpl.Set(CKA_ID, *uri.id);
  return tmpl;
}

bool Retryable(const Status& st) {
  return st.reason() == Reason::kUserNotLoggedIn || st.reason() == Reason::kSessionHandleInvalid ||
         st.reason() == Reason::kSessionClosed;
}

}  // namespace

template <typename Fn>
Status Vault::WithSession(SlotId slot, Fn&& fn) {
  for (int attempt = 0;; ++attempt) {
    CV_ASSIGN_OR_RETURN(State * state, CurrentState());
    {
      std::lock_guard<std::mutex> lock(state->mu);
      if (state->logged_in.count(slot) == 0) {
        // Logged in before (this process or its parent before fork()): log in again with the kept PIN.
        bool known;
        {
          std::lock_guard<std::mutex> pins_lock(mu_);
          known = pins_.count(slot) != 0;
        }
        if (known) CV_RETURN_IF_ERROR(LoginLocked(state, slot, nullptr));
      }
    }
    CV_ASSIGN_OR_RETURN(Lease lease, Acquire(slot));
    Status st = fn(lease.backend(), lease.session());
    if (st.ok() || attempt > 0 || !Retryable(st)) return st;
    // The session or the login was lost (another user of the vault logged out, the session was closed):
    // once more on a fresh session and login.
    lease.Discard();
    std::lock_guard<std::mutex> lock(state->mu);
    state->logged_in.erase(slot);
  }
}

Result<std::shared_ptr<const VaultKey>> Vault::ReadKey(Backend& backend, SessionHandle session, SlotId slot,
                                                       ObjectHandle object, bool is_private) {
  std::vector<AttributeRequest> req(is_private ? 5 : 4);
  req[0].type = CKA_KEY_TYPE;
  req[1].type = CKA_LABEL;
  req[2].type = CKA_ID;
  req[3].type = CKA_PUBLIC_KEY_INFO;
  if (is_private) req[4].type = CKA_ALWAYS_AUTHENTICATE;
  CV_RETURN_IF_ERROR(backend.GetAttributeValue(session, object, &req));
  (void)UlongOf(req[0].value);
  auto key = std::make_shared<VaultKey>();
  CV_ASSIGN_OR_RETURN(key->pub, PublicKeyFromSpki(req[3].value, libctx_));
  CV_ASSIGN_OR_RETURN(key->algo, KeyAlgoOf(key->pub.get()));
  key->slot = slot;
  key->private_handle = is_private ? object : 0;
  key->label.assign(req[1].value.begin(), req[1].value.end());
  key->id.assign(req[2].value.begin(), req[2].value.end());
  key->always_authenticate = is_private && req[4].value.size() == 1 && req[4].value[0] != 0;
  return std::shared_ptr<const VaultKey>(std::move(key));
}

Result<std::vector<std::shared_ptr<const VaultKey>>> Vault::FindKeys(const Pkcs11Uri& uri, bool want_private,
                                                                     const PinSource& pin) {
  if (uri.type && *uri.type != (want_private ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY)) {
    return NotFoundError("the URI names another object type");
  }
  CV_ASSIGN_OR_RETURN(State * state, CurrentState());
  CV_ASSIGN_OR_RETURN(std::vector<SlotId> slots, MatchTokens(state, uri));
  std::vector<std::shared_ptr<const VaultKey>> out;
  for (SlotId slot : slots) {
    if (want_private) CV_RETURN_IF_ERROR(EnsureLogin(slot, pin));
    CV_RETURN_IF_ERROR(WithSession(slot, [&](Backend& backend, SessionHandle session) -> Status {
      CV_ASSIGN_OR_RETURN(auto handles, FindAll(backend, session,
                                                ObjectTemplate(uri, want_private ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY)));
      for (ObjectHandle h : handles) {
        Result<std::shared_ptr<const VaultKey>> key = ReadKey(backend, session, slot, h, want_private);
        if (key.ok()) out.push_back(std::move(*key));  // other key types (secret keys ...) are not ours
      }
      return OkStatus();
    }));
  }
  if (out.empty()) return NotFoundError("no key in the vault matches the URI");
  return out;
}

Result<std::vector<Bytes>> Vault::FindCertificates(const Pkcs11Uri& uri) {
  CV_ASSIGN_OR_RETURN(State * state, CurrentState());
  CV_ASSIGN_OR_RETURN(std::vector<SlotId> slots, MatchTokens(state, uri));
  std::vector<Bytes> out;
  for (SlotId slot : slots) {
    CV_RETURN_IF_ERROR(WithSession(slot, [&](Backend& backend, SessionHandle session) -> Status {
      CV_ASSIGN_OR_RETURN(auto handles, FindAll(backend, session, ObjectTemplate(uri, CKO_CERTIFICATE)));
      for (ObjectHandle h : handles) {
        std::vector<AttributeRequest> req(1);
        req[0].type = CKA_VALUE;
        if (backend.GetAttributeValue(session, h, &req).ok())
          out.emplace_back(req[0].value.begin(), req[0].value.end());
      }
      return OkStatus();
    }));
  }
  return out;
}

Status Vault::ContextLogin(Backend& backend, SessionHandle session, const VaultKey& key) {
  if (!key.always_authenticate) return OkStatus();
  // v3.0 §4.9: the key needs the PIN for each use. It is the PIN this process
  // got from its PIN source (URI, pin-file, pin-env or the application's UI
  // callback) when it logged in; the callback cannot be asked again here, as
  // it is valid only during the load that gave it.
  std::optional<SecretBytes> pin;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pins_.find(key.slot);
    if (it != pins_.end()) pin = it->second.Clone();
  }
  if (!pin) return Status(StatusCode::kUnauthenticated, Reason::kUserNotLoggedIn, "the key needs its PIN for each use");
  Status st = backend.Login(session, UserType::kContextSpecific, *pin);
  if (st.reason() == Reason::kPinIncorrect) {  // changed since: do not spend the retry counter on it again
    std::lock_guard<std::mutex> lock(mu_);
    pins_.erase(key.slot);
  }
  return st;
}

Status Vault::Sign(const VaultKey& key, const Mechanism& mech, std::span<const uint8_t> in, SecureVector* out) {
  if (!key.has_private()) return Status(Reason::kKeyHandleInvalid, "not a vault private key");
  return WithSession(key.slot, [&](Backend& backend, SessionHandle session) -> Status {
    CV_RETURN_IF_ERROR(backend.SignInit(session, mech, key.private_handle));
    CV_RETURN_IF_ERROR(ContextLogin(backend, session, key));
    out->resize(kMaxOutput);
    size_t len = out->size();
    CV_RETURN_IF_ERROR(backend.Sign(session, in, OutBuf{out->data(), &len}));
    out->resize(len);
    return OkStatus();
  });
}

Status Vault::Decrypt(const VaultKey& key, const Mechanism& mech, std::span<const uint8_t> in, SecureVector* out) {
  if (!key.has_private()) return Status(Reason::kKeyHandleInvalid, "not a vault private key");
  return WithSession(key.slot, [&](Backend& backend, SessionHandle session) -> Status {
    CV_RETURN_IF_ERROR(backend.DecryptInit(session, mech, key.private_handle));
    CV_RETURN_IF_ERROR(ContextLogin(backend, session, key));
    out->resize(kMaxOutput);
    size_t len = out->size();
    CV_RETURN_IF_ERROR(backend.Decrypt(session, in, OutBuf{out->data(), &len}));
    out->resize(len);
    return OkStatus();
  });
}

Result<SecretBytes> Vault::DeriveEcdh(const VaultKey& key, std::span<const uint8_t> peer_public, size_t len) {
  if (!key.has_private()) return Status(Reason::kKeyHandleInvalid, "not a vault private key");
  Ecdh1DeriveParams params;
  params.kdf = CKD_NULL;
  params.public_data.assign(peer_public.begin(), peer_public.end());
  AttributeSet tmpl;
  tmpl.SetUlong(CKA_CLASS, CKO_SECRET_KEY);
  tmpl.SetUlong(CKA_KEY_TYPE, CKK_GENERIC_SECRET);
  tmpl.SetBool(CKA_TOKEN, false);
  tmpl.SetBool(CKA_SENSITIVE, false);
  tmpl.SetBool(CKA_EXTRACTABLE, true);
  tmpl.SetUlong(CKA_VALUE_LEN, len);
  SecretBytes secret;
  CV_RETURN_IF_ERROR(WithSession(key.slot, [&](Backend& backend, SessionHandle session) -> Status {
    CV_ASSIGN_OR_RETURN(ObjectHandle h,
                        backend.DeriveKey(session, Mechanism{CKM_ECDH1_DERIVE, params}, key.private_handle, tmpl));
    std::vector<AttributeRequest> req(1);
    req[0].type = CKA_VALUE;
    Status st = backend.GetAttributeValue(session, h, &req);
    (void)backend.DestroyObject(session, h);
    CV_RETURN_IF_ERROR(st);
    secret = SecretBytes(std::move(req[0].value));
    return OkStatus();
  }));
  return secret;
}

}  // namespace certvault::provider
