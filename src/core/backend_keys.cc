// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EmbeddedBackend: key management (PKCS#11 §5.14).
#include <cstring>

#include "src/base/status_macros.h"
#include "src/core/embedded_backend.h"
#include "src/core/key_policy.h"
#include "src/core/lifecycle.h"
#include "src/core/policy.h"

namespace certvault::core {
namespace {

Result<KeyType> KeyPairTypeFor(MechanismType mech) {
  switch (mech) {
    case CKM_RSA_PKCS_KEY_PAIR_GEN: return KeyType{CKK_RSA};
    case CKM_EC_KEY_PAIR_GEN: return KeyType{CKK_EC};
    case CKM_EC_EDWARDS_KEY_PAIR_GEN: return KeyType{CKK_EC_EDWARDS};
    case CKM_EC_MONTGOMERY_KEY_PAIR_GEN: return KeyType{CKK_EC_MONTGOMERY};
    default: return Status(Reason::kMechanismInvalid, "not a key-pair generation mechanism");
  }
}

Result<KeyType> SecretKeyTypeFor(MechanismType mech, const AttributeSet& tmpl) {
  switch (mech) {
    case CKM_AES_KEY_GEN: return KeyType{CKK_AES};
    case CKM_GENERIC_SECRET_KEY_GEN: return tmpl.GetUlong(CKA_KEY_TYPE).value_or(CKK_GENERIC_SECRET);
    default: return Status(Reason::kMechanismInvalid, "not a key generation mechanism");
  }
}

// The key type a template names must agree with the mechanism's.
Status CheckKeyType(const AttributeSet& tmpl, KeyType expected) {
  std::optional<uint64_t> kt = tmpl.GetUlong(CKA_KEY_TYPE);
  if (tmpl.Has(CKA_KEY_TYPE) && (!kt || *kt != expected)) {
    return Status(Reason::kTemplateInconsistent, "CKA_KEY_TYPE does not match the mechanism");
  }
  return OkStatus();
}

// CheckKeyUse: the key's capability attribute and CKA_ALLOWED_MECHANISMS.
Status CheckKeyUse(const KeyCacheEntry& key, policy::Use use, MechanismType mech) {
  CV_RETURN_IF_ERROR(policy::Permits(key.object->attrs, use));
  CV_RETURN_IF_ERROR(lifecycle::CheckUse(key.object->attrs, use, lifecycle::Today()));
  if (!policy::AllowsMechanism(key.object->attrs, mech)) {
    return Status(Reason::kMechanismInvalid, "mechanism not in the key's CKA_ALLOWED_MECHANISMS");
  }
  return OkStatus();
}

}  // namespace

Result<ObjectHandle> EmbeddedBackend::StoreNewObject(Session& s, AttributeSet attrs, AttributeType secret_type,
                                                     const SecretBytes& secret) {
  std::vector<NewObject> objs(1);
  objs[0].attrs = std::move(attrs);
  objs[0].secrets.Set(secret_type, secret.Bytes(SecretAccess::Get()));
  CV_ASSIGN_OR_RETURN(std::vector<ObjectHandle> handles, StoreNewObjects(s, std::move(objs)));
  return handles.front();
}

Result<ObjectHandle> EmbeddedBackend::GenerateKeyUnlogged(SessionHandle handle, const Mechanism& mech,
                                                          const AttributeSet& tmpl) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  CV_RETURN_IF_ERROR(CheckAllowed(*s, mech.type));
  CV_ASSIGN_OR_RETURN(KeyType kt, SecretKeyTypeFor(mech.type, tmpl));
  CV_RETURN_IF_ERROR(CheckKeyType(tmpl, kt));
  CV_ASSIGN_OR_RETURN(AttributeSet attrs,
                      policy::ApplyTemplate(CKO_SECRET_KEY, kt, tmpl, policy::Origin::kGenerate, mech.type));
  CV_RETURN_IF_ERROR(CheckCreateAllowed(*s, attrs));  // before the work, not only after
  CV_RETURN_IF_ERROR(ApplyKeyPeriod(config_.policy.get(), &attrs, lifecycle::Today()));  // [crypto_periods]
  CV_ASSIGN_OR_RETURN(engine::NewKey key, engine::GenerateKey(mech, attrs));
  CV_RETURN_IF_ERROR(policy::MergeEngineAttributes(&attrs, key.attrs));
  return StoreNewObject(*s, std::move(attrs), CKA_VALUE, key.material);
}

Result<Backend::KeyPair> EmbeddedBackend::GenerateKeyPairUnlogged(SessionHandle handle, const Mechanism& mech,
                                                                  const AttributeSet& public_tmpl,
                                                                  const AttributeSet& private_tmpl) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  CV_RETURN_IF_ERROR(CheckAllowed(*s, mech.type));
  CV_ASSIGN_OR_RETURN(KeyType kt, KeyPairTypeFor(mech.type));
  CV_RETURN_IF_ERROR(CheckKeyType(public_tmpl, kt));
  CV_RETURN_IF_ERROR(CheckKeyType(private_tmpl, kt));
  CV_ASSIGN_OR_RETURN(AttributeSet pub, policy::ApplyTemplate(CKO_PUBLIC_KEY, kt, public_tmpl,
                                                              policy::Origin::kGenerate, mech.type));
  CV_ASSIGN_OR_RETURN(AttributeSet priv, policy::ApplyTemplate(CKO_PRIVATE_KEY, kt, private_tmpl,
                                                               policy::Origin::kGenerate, mech.type));
  CV_RETURN_IF_ERROR(CheckCreateAllowed(*s, pub));
  CV_RETURN_IF_ERROR(CheckCreateAllowed(*s, priv));
  CV_RETURN_IF_ERROR(ApplyKeyPeriod(config_.policy.get(), &priv, lifecycle::Today()));  // [crypto_periods]
  // policy.toml [algorithms]: before the work when the template names the
  // size or curve, and always on the generated key.
  if (!PolicyKeyType(pub).empty()) CV_RETURN_IF_ERROR(CheckKeyAllowed(config_.policy.get(), pub));
  CV_ASSIGN_OR_RETURN(engine::NewKeyPair pair, engine::GenerateKeyPair(mech, pub, priv));
  CV_RETURN_IF_ERROR(policy::MergeEngineAttributes(&pub, pair.public_key.attrs));
  CV_RETURN_IF_ERROR(policy::MergeEngineAttributes(&priv, pair.private_key.attrs));
  CV_RETURN_IF_ERROR(CheckKeyAllowed(config_.policy.get(), pub));
  std::vector<NewObject> objs(2);
  objs[0].attrs = std::move(pub);
  objs[1].attrs = std::move(priv);
  objs[1].secrets.Set(kCvaKeyMaterial, pair.private_key.material.Bytes(SecretAccess::Get()));
  CV_ASSIGN_OR_RETURN(std::vector<ObjectHandle> handles, StoreNewObjects(*s, std::move(objs)));
  return KeyPair{handles[0], handles[1]};
}

Status EmbeddedBackend::WrapKey(SessionHandle handle, const Mechanism& mech, ObjectHandle wrapping_key,
                                ObjectHandle key, OutBuf out) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  if (out.len == nullptr) return Status(Reason::kArgumentsBad, "null output length pointer");
  CV_ASSIGN_OR_RETURN(KeyCacheEntry wrapper, FetchKey(*s, wrapping_key, Reason::kWrappingKeyHandleInvalid));
  CV_RETURN_IF_ERROR(CheckKeyUse(wrapper, policy::Use::kWrap, mech.type));
  CV_ASSIGN_OR_RETURN(KeyCacheEntry target, FetchKey(*s, key, Reason::kKeyHandleInvalid));
  // A compromised key is not handed out either (destroyed ones have no material).
  if (lifecycle::StoredState(target.object->attrs) == lifecycle::KeyState::kCompromised) {
    return Status(Reason::kKeyFunctionNotPermitted, "the key is compromised");
  }
  // certvault never lets a sensitive or non-extractable key leave, wrapped or not.
  if (!target.object->attrs.GetBoolOr(CKA_EXTRACTABLE, false)) {
    return Status(Reason::kKeyUnextractable, "the key is not extractable");
  }
  if (target.object->attrs.GetBoolOr(CKA_SENSITIVE, true)) {
    return Status(Reason::kKeyNotWrappable, "sensitive keys are never wrapped out of the vault");
  }
  CV_ASSIGN_OR_RETURN(SecureVector wrapped, engine::WrapKey(mech, *wrapper.key, *target.key));
  if (out.data == nullptr) {
    *out.len = wrapped.size();
    return OkStatus();
  }
  if (*out.len < wrapped.size()) {
    *out.len = wrapped.size();
    return Status(Reason::kBufferTooSmall, "output buffer too small");
  }
  if (!wrapped.empty()) std::memcpy(out.data, wrapped.data(), wrapped.size());
  *out.len = wrapped.size();
  return OkStatus();
}

Result<ObjectHandle> EmbeddedBackend::UnwrapKeyUnlogged(SessionHandle handle, const Mechanism& mech,
                                                        ObjectHandle unwrapping_key, std::span<const uint8_t> wrapped,
                                                        const AttributeSet& tmpl) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  CV_ASSIGN_OR_RETURN(KeyCacheEntry unwrapper, FetchKey(*s, unwrapping_key, Reason::kUnwrappingKeyHandleInvalid));
  CV_RETURN_IF_ERROR(CheckKeyUse(unwrapper, policy::Use::kUnwrap, mech.type));
  std::optional<uint64_t> cls = tmpl.GetUlong(CKA_CLASS);
  std::optional<uint64_t> kt = tmpl.GetUlong(CKA_KEY_TYPE);
  if (!cls || !kt) return Status(Reason::kTemplateIncomplete, "CKA_CLASS and CKA_KEY_TYPE are required");
  CV_ASSIGN_OR_RETURN(AttributeSet attrs, policy::ApplyTemplate(*cls, *kt, tmpl, policy::Origin::kUnwrap, mech.type));
  CV_RETURN_IF_ERROR(CheckCreateAllowed(*s, attrs));
  CV_RETURN_IF_ERROR(ApplyKeyPeriod(config_.policy.get(), &attrs, lifecycle::Today()));  // [crypto_periods]
  CV_ASSIGN_OR_RETURN(engine::NewKey key, engine::UnwrapKey(mech, *unwrapper.key, wrapped, *cls, *kt));
  CV_RETURN_IF_ERROR(policy::MergeEngineAttributes(&attrs, key.attrs));
  CV_RETURN_IF_ERROR(CheckKeyAllowed(config_.policy.get(), attrs));  // policy.toml [algorithms]
  return StoreNewObject(*s, std::move(attrs), *cls == CKO_PRIVATE_KEY ? kCvaKeyMaterial : CKA_VALUE, key.material);
}

Result<ObjectHandle> EmbeddedBackend::DeriveKeyUnlogged(SessionHandle handle, const Mechanism& mech,
                                                        ObjectHandle base_key, const AttributeSet& tmpl) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  CV_ASSIGN_OR_RETURN(KeyCacheEntry base, FetchKey(*s, base_key, Reason::kKeyHandleInvalid));
  CV_RETURN_IF_ERROR(CheckKeyUse(base, policy::Use::kDerive, mech.type));
  KeyType kt = tmpl.GetUlong(CKA_KEY_TYPE).value_or(CKK_GENERIC_SECRET);
  CV_ASSIGN_OR_RETURN(AttributeSet attrs,
                      policy::ApplyTemplate(CKO_SECRET_KEY, kt, tmpl, policy::Origin::kDerive, mech.type));
  CV_RETURN_IF_ERROR(CheckCreateAllowed(*s, attrs));
  CV_RETURN_IF_ERROR(ApplyKeyPeriod(config_.policy.get(), &attrs, lifecycle::Today()));  // [crypto_periods]
  CV_RETURN_IF_ERROR(CapToBaseKeyPeriod(base.object->attrs, tmpl, &attrs));
  CV_ASSIGN_OR_RETURN(engine::NewKey key, engine::DeriveKey(mech, *base.key, attrs));
  CV_RETURN_IF_ERROR(policy::MergeEngineAttributes(&attrs, key.attrs));
  return StoreNewObject(*s, std::move(attrs), CKA_VALUE, key.material);
}

}  // namespace certvault::core
