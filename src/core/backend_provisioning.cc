// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EmbeddedBackend: the vault's identity and transport keys, vendor mode
// (issue 14, docs/design/provisioning.md). The keys are ordinary token
// objects that no PKCS#11 or provider call can use: no capability attribute
// is set and none can be (CKA_MODIFIABLE, CKA_COPYABLE, CKA_DESTROYABLE are
// FALSE). Only the code here and in backend_update.cc reaches their key
// material, for the vault's own certificates, requests and receipts.
#include <algorithm>

#include "src/base/status_macros.h"
#include "src/core/embedded_backend.h"
#include "src/core/lifecycle.h"
#include "src/core/policy.h"
#include "src/core/vault_objects.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_der.h"
#include "src/crypto/ossl_error.h"
#include "src/model/vendor_attributes.h"

namespace certvault::core {
namespace {

Result<ossl::UniquePtr<X509>> ParseCert(std::span<const uint8_t> der) {
  const unsigned char* p = der.data();
  ossl::UniquePtr<X509> cert(crypto::D2iX509(&p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  if (cert == nullptr || p != der.data() + der.size()) {
    ossl::ClearErrors();
    return Status(Reason::kDataInvalid, "not one DER certificate");
  }
  return cert;
}

Bytes ValueOf(const Object& obj) {
  std::optional<std::span<const uint8_t>> v = obj.attrs.GetBytes(CKA_VALUE);
  return v ? Bytes(v->begin(), v->end()) : Bytes();
}

}  // namespace

Result<std::shared_ptr<Session>> EmbeddedBackend::ProvisioningSession(SessionHandle handle) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  if (!s->rw()) return Status(Reason::kSessionReadOnly, "provisioning needs a R/W session");
  std::shared_lock<std::shared_mutex> lock(s->runtime->mu);
  if (s->runtime->login != UserType::kUser) return Status(Reason::kUserNotLoggedIn, "provisioning needs the user");
  return s;
}

Result<std::shared_ptr<const Object>> EmbeddedBackend::FindVaultObject(Session& s, uint64_t role) {
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  storage::ObjectQuery q;
  q.token_id = s.token;
  q.object_class = vault::RoleClass(role);
  q.label = ToBytes(vault::RoleLabel(role));
  q.include_private = true;
  CV_ASSIGN_OR_RETURN(std::vector<storage::ObjectId> ids, store->FindObjects(q));
  for (storage::ObjectId id : ids) {
    CV_ASSIGN_OR_RETURN(std::shared_ptr<const Object> obj, FetchObject(s, id));
    // A look-alike made by an application has the label but never the role.
    if (obj->token_object && obj->attrs.GetUlong(kCkaCvVaultRole) == role) return obj;
  }
  return Status(StatusCode::kNotFound, Reason::kFunctionFailed, "the vault has no such object");
}

Result<uint64_t> EmbeddedBackend::VaultRoleCount(storage::Store& store, storage::TokenId token, uint64_t cls) {
  if (cls != CKO_PRIVATE_KEY && cls != CKO_CERTIFICATE) return uint64_t{0};
  uint64_t n = 0;
  for (const char* label : {vault::kIdentityLabel, vault::kTransportLabel, vault::kAuthorityLabel}) {
    storage::ObjectQuery q;
    q.token_id = token;
    q.object_class = cls;
    q.label = ToBytes(label);
    q.include_private = true;
    CV_ASSIGN_OR_RETURN(std::vector<storage::ObjectId> ids, store.FindObjects(q));
    for (storage::ObjectId id : ids) {
      CV_ASSIGN_OR_RETURN(storage::ObjectRow row, store.GetObject(id));
      CV_ASSIGN_OR_RETURN(std::shared_ptr<Object> obj, FromRow(row, nullptr));
      if (obj->attrs.Has(kCkaCvVaultRole)) ++n;
    }
  }
  return n;
}

Result<std::shared_ptr<const engine::ReadyKey>> EmbeddedBackend::VaultPrivateKey(Session& s, uint64_t role) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const Object> obj, FindVaultObject(s, role));
  CV_ASSIGN_OR_RETURN(KeyCacheEntry entry, FetchKey(s, obj->id, Reason::kKeyHandleInvalid));
  return entry.key;
}

Result<storage::ObjectRow> EmbeddedBackend::SealNewRow(Session& s, AttributeSet attrs,
                                                      const AttributeSet& extra_secrets) {
  AttributeSet secrets = SplitSecrets(&attrs);
  for (const Attribute& a : extra_secrets.items()) secrets.Set(a.type, a.value);
  Object obj;
  CV_ASSIGN_OR_RETURN(obj.id, NewObjectId());
  obj.token = s.token;
  obj.version = 1;
  obj.token_object = true;
  obj.attrs = std::move(attrs);
  obj.attrs.SetString(policy::kCkaUniqueId, std::to_string(obj.id));
  lifecycle::StampNewKey(&obj.attrs, lifecycle::NowSeconds());
  std::shared_lock<std::shared_mutex> lock(s.runtime->mu);
  CV_RETURN_IF_ERROR(SealSecrets(s.runtime->token_key, secrets, &obj));
  return ToRow(obj, &s.runtime->integrity_key);
}

Result<vault::State> EmbeddedBackend::ReadState(Session& s, const Object& obj) {
  std::shared_lock<std::shared_mutex> lock(s.runtime->mu);
  CV_ASSIGN_OR_RETURN(SecureVector value, OpenSecret(obj, CKA_VALUE, &s.runtime->token_key));
  return vault::DecodeState(value);
}

Result<storage::ObjectRow> EmbeddedBackend::StateRow(Session& s, const Object& old, const vault::State& state) {
  Object updated = old;
  updated.version = old.version + 1;
  AttributeSet value;
  value.Set(CKA_VALUE, vault::EncodeState(state));
  std::shared_lock<std::shared_mutex> lock(s.runtime->mu);
  CV_RETURN_IF_ERROR(ReplaceSealedSecrets(s.runtime->token_key, value, &updated));
  return ToRow(updated, &s.runtime->integrity_key);
}

Result<storage::ObjectRow> EmbeddedBackend::UpdatedRow(Session& s, const Object& old, const AttributeSet& changes) {
  Object updated = old;
  for (const Attribute& a : changes.items()) updated.attrs.Set(a.type, a.value);
  updated.version = old.version + 1;
  std::shared_lock<std::shared_mutex> lock(s.runtime->mu);
  return ToRow(updated, &s.runtime->integrity_key);
}

namespace {

// NewVaultKeyPair: one P-256 pair with the vault role attributes, its private
// half's material returned as a parsed key for the certificates.
struct VaultPair {
  AttributeSet pub, priv;
  SecretBytes material;
  std::shared_ptr<const engine::ReadyKey> key;
  Bytes spki;
};

Result<VaultPair> NewVaultKeyPair(bool identity) {
  const Mechanism mech{CKM_EC_KEY_PAIR_GEN, {}};
  AttributeSet pub_tmpl, priv_tmpl;
  vault::KeyTemplates(identity, &pub_tmpl, &priv_tmpl);
  VaultPair p;
  CV_ASSIGN_OR_RETURN(p.pub, policy::ApplyTemplate(CKO_PUBLIC_KEY, CKK_EC, pub_tmpl, policy::Origin::kGenerate,
                                                   mech.type));
  CV_ASSIGN_OR_RETURN(p.priv, policy::ApplyTemplate(CKO_PRIVATE_KEY, CKK_EC, priv_tmpl, policy::Origin::kGenerate,
                                                    mech.type));
  CV_ASSIGN_OR_RETURN(engine::NewKeyPair pair, engine::GenerateKeyPair(mech, p.pub, p.priv));
  CV_RETURN_IF_ERROR(policy::MergeEngineAttributes(&p.pub, pair.public_key.attrs));
  CV_RETURN_IF_ERROR(policy::MergeEngineAttributes(&p.priv, pair.private_key.attrs));
  p.pub.SetUlong(kCkaCvVaultRole, identity ? kCvRoleIdentityPublic : kCvRoleTransportPublic);
  p.priv.SetUlong(kCkaCvVaultRole, identity ? kCvRoleIdentityKey : kCvRoleTransportKey);
  p.priv.SetUlong(kCkaCvProvenance, kCvProvenanceGenerated);
  p.material = std::move(pair.private_key.material);
  CV_ASSIGN_OR_RETURN(p.key, engine::LoadKey(p.priv, &p.material));
  CV_ASSIGN_OR_RETURN(p.spki, (ossl::ToDer<EVP_PKEY, i2d_PUBKEY>(p.key->pkey.get(), "i2d_PUBKEY")));
  return p;
}

Result<AttributeSet> RoleCertificate(std::span<const uint8_t> der, uint64_t role) {
  CV_ASSIGN_OR_RETURN(AttributeSet t, vault::CertificateTemplate(der, vault::RoleLabel(role),
                                                                 ToBytes(vault::RoleLabel(role)), /*locked=*/true));
  CV_ASSIGN_OR_RETURN(AttributeSet attrs, policy::ApplyTemplate(CKO_CERTIFICATE, 0, t, policy::Origin::kCreate,
                                                                policy::kCkUnavailableInformation));
  attrs.SetUlong(kCkaCvVaultRole, role);
  return attrs;
}

}  // namespace

Status EmbeddedBackend::CreateVaultKeysUnlogged(SessionHandle handle) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, ProvisioningSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  if (FindVaultObject(*s, kCvRoleIdentityKey).ok()) return AlreadyExistsError("the token has its vault keys already");
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  CV_ASSIGN_OR_RETURN(storage::TokenRow token, store->GetToken(s->token));
  CV_ASSIGN_OR_RETURN(VaultPair id, NewVaultKeyPair(true));
  CV_ASSIGN_OR_RETURN(VaultPair tr, NewVaultKeyPair(false));
  x509::CertSpec spec;
  spec.public_key_info = id.spki;
  spec.subject = "/CN=certvault identity " + token.serial;
  spec.days = 36500;
  CV_ASSIGN_OR_RETURN(Bytes id_cert, x509::BuildCertificate(spec, provision::EvpSigner(id.key->pkey.get())));
  spec.public_key_info = tr.spki;
  spec.subject = "/CN=certvault transport " + token.serial;
  spec.issuer_cert_der = id_cert;
  CV_ASSIGN_OR_RETURN(Bytes tr_cert, x509::BuildCertificate(spec, provision::EvpSigner(id.key->pkey.get())));
  std::vector<storage::ObjectRow> rows;
  for (VaultPair* p : {&id, &tr}) {
    AttributeSet material;
    material.Set(kCvaKeyMaterial, p->material.Bytes(SecretAccess::Get()));
    CV_ASSIGN_OR_RETURN(storage::ObjectRow pub, SealNewRow(*s, p->pub, {}));
    CV_ASSIGN_OR_RETURN(storage::ObjectRow priv, SealNewRow(*s, p->priv, material));
    rows.push_back(std::move(pub));
    rows.push_back(std::move(priv));
  }
  CV_ASSIGN_OR_RETURN(AttributeSet id_attrs, RoleCertificate(id_cert, kCvRoleIdentityCert));
  CV_ASSIGN_OR_RETURN(AttributeSet tr_attrs, RoleCertificate(tr_cert, kCvRoleTransportCert));
  AttributeSet state = vault::StateTemplate(vault::State{});
  state.SetUlong(kCkaCvVaultRole, kCvRoleState);
  for (AttributeSet* a : {&id_attrs, &tr_attrs, &state}) {
    CV_ASSIGN_OR_RETURN(storage::ObjectRow row, SealNewRow(*s, *a, {}));
    rows.push_back(std::move(row));
  }
  CV_RETURN_IF_ERROR(CommitObjects(*store, s->token, IntegrityKeyOf(*s->runtime), nullptr, rows,
                                   [&] { return store->InsertObjects(rows); }));
  changes_->Bump();
  return OkStatus();
}

Result<Backend::VaultIdentity> EmbeddedBackend::GetVaultIdentity(SessionHandle handle) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  CV_ASSIGN_OR_RETURN(storage::TokenRow token, store->GetToken(s->token));
  VaultIdentity out;
  out.token_serial = token.serial;
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const Object> id, FindVaultObject(*s, kCvRoleIdentityCert));
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const Object> tr, FindVaultObject(*s, kCvRoleTransportCert));
  out.identity_cert = ValueOf(*id);
  out.transport_cert = ValueOf(*tr);
  Result<std::shared_ptr<const Object>> authority = FindVaultObject(*s, kCvRoleAuthority);
  if (authority.ok()) out.authority_cert = ValueOf(**authority);
  Result<std::shared_ptr<const Object>> state = FindVaultObject(*s, kCvRoleState);
  if (state.ok()) {
    CV_ASSIGN_OR_RETURN(vault::State st, ReadState(*s, **state));
    out.counter = st.counter;
  }
  return out;
}

Result<Bytes> EmbeddedBackend::IdentityCsr(SessionHandle handle, const std::string& subject) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, ProvisioningSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const engine::ReadyKey> key, VaultPrivateKey(*s, kCvRoleIdentityKey));
  x509::CsrSpec spec;
  CV_ASSIGN_OR_RETURN(spec.public_key_info, (ossl::ToDer<EVP_PKEY, i2d_PUBKEY>(key->pkey.get(), "i2d_PUBKEY")));
  spec.subject = subject;
  return x509::BuildCsr(spec, provision::EvpSigner(key->pkey.get()));
}

Status EmbeddedBackend::ImportIdentityCertUnlogged(SessionHandle handle, std::span<const uint8_t> der) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, ProvisioningSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> cert, ParseCert(der));
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const engine::ReadyKey> key, VaultPrivateKey(*s, kCvRoleIdentityKey));
  if (EVP_PKEY_eq(X509_get0_pubkey(cert.get()), key->pkey.get()) != 1) {
    ossl::ClearErrors();
    return Status(Reason::kKeyTypeInconsistent, "the certificate is not for this vault's identity key");
  }
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const Object> old, FindVaultObject(*s, kCvRoleIdentityCert));
  CV_ASSIGN_OR_RETURN(AttributeSet changes, RoleCertificate(der, kCvRoleIdentityCert));
  CV_ASSIGN_OR_RETURN(storage::ObjectRow row, UpdatedRow(*s, *old, changes));
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  CV_RETURN_IF_ERROR(CommitObjects(*store, s->token, IntegrityKeyOf(*s->runtime), old.get(), {row},
                                   [&] { return store->UpdateObject(row); }));
  changes_->Bump();
  return OkStatus();
}

Status EmbeddedBackend::PinAuthorityUnlogged(SessionHandle handle, std::span<const uint8_t> cert_der) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, ProvisioningSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  CV_RETURN_IF_ERROR(ParseCert(cert_der).status());
  if (FindVaultObject(*s, kCvRoleAuthority).ok()) {
    return AlreadyExistsError("a provisioning authority is pinned; only a package it signs can change it");
  }
  CV_ASSIGN_OR_RETURN(AttributeSet attrs, RoleCertificate(cert_der, kCvRoleAuthority));
  CV_ASSIGN_OR_RETURN(storage::ObjectRow row, SealNewRow(*s, attrs, {}));
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  CV_RETURN_IF_ERROR(CommitObjects(*store, s->token, IntegrityKeyOf(*s->runtime), nullptr, {row},
                                   [&] { return store->InsertObject(row); }));
  changes_->Bump();
  return OkStatus();
}

Result<EmbeddedBackend::UpdatePlan> EmbeddedBackend::PlanRotation(Session& s, const provision::PackageContent& content,
                                                                   std::shared_ptr<const Object> current) {
  const Bytes& der = content.certificates.at(0);
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> next, ParseCert(der));
  // A certificate not valid now would leave the vault unable to accept any
  // further package (nothing could rotate it back).
  if (X509_cmp_current_time(X509_get0_notBefore(next.get())) >= 0 ||
      X509_cmp_current_time(X509_get0_notAfter(next.get())) <= 0) {
    return Status(Reason::kDataInvalid, "the new authority certificate is not valid now");
  }
  std::optional<std::span<const uint8_t>> old = current->attrs.GetBytes(CKA_VALUE);
  if (old.has_value() && std::equal(old->begin(), old->end(), der.begin(), der.end())) {
    return Status(Reason::kDataInvalid, "the new authority is the pinned one");
  }
  CV_ASSIGN_OR_RETURN(AttributeSet attrs, RoleCertificate(der, kCvRoleAuthority));
  CV_ASSIGN_OR_RETURN(storage::ObjectRow row, SealNewRow(s, attrs, {}));
  UpdatePlan plan;
  plan.vault_rows.push_back(std::move(row));
  plan.removed.push_back(std::move(current));
  return plan;
}

Result<Bytes> EmbeddedBackend::Attest(SessionHandle handle, ObjectHandle key) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, ProvisioningSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  CV_ASSIGN_OR_RETURN(KeyCacheEntry entry, FetchKey(*s, key, Reason::kKeyHandleInvalid));
  const AttributeSet& a = entry.object->attrs;
  if (entry.object->object_class() != CKO_PRIVATE_KEY || !entry.object->token_object) {
    return Status(Reason::kKeyHandleInvalid, "only a token private key can be attested");
  }
  provision::KeyAttestation st;
  st.origin = a.GetUlong(kCkaCvProvenance)
                  .value_or(a.GetBoolOr(CKA_LOCAL, false) ? kCvProvenanceGenerated : kCvProvenanceImported);
  st.never_extractable = a.GetBoolOr(CKA_NEVER_EXTRACTABLE, false);
  st.always_sensitive = a.GetBoolOr(CKA_ALWAYS_SENSITIVE, false);
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  CV_ASSIGN_OR_RETURN(storage::TokenRow token, store->GetToken(s->token));
  st.token_serial = token.serial;
  st.software_version = CV_VERSION;
  CV_ASSIGN_OR_RETURN(Bytes spki, (ossl::ToDer<EVP_PKEY, i2d_PUBKEY>(entry.key->pkey.get(), "i2d_PUBKEY")));
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const Object> id_cert_obj, FindVaultObject(*s, kCvRoleIdentityCert));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> id_cert, ParseCert(ValueOf(*id_cert_obj)));
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const engine::ReadyKey> id_key, VaultPrivateKey(*s, kCvRoleIdentityKey));
  return provision::BuildAttestationCert(st, spki, {id_key->pkey.get(), id_cert.get(), nullptr});
}

// The public calls: each writes its event to the vault's event log in the
// transaction of its change, or on its own with the error when refused
// (docs/formats/event-log.md).
Status EmbeddedBackend::CreateVaultKeys(SessionHandle handle) {
  PendingEvent p = StartPending(handle, audit::Event{"create_vault_keys", 0, vault::kIdentityLabel, "ok", ""});
  Status st = [&] {
    PendingEventScope scope(&p);
    return CreateVaultKeysUnlogged(handle);
  }();
  FinishPending(p, st);
  return st;
}

Status EmbeddedBackend::ImportIdentityCert(SessionHandle handle, std::span<const uint8_t> der) {
  PendingEvent p = StartPending(handle, audit::Event{"import_identity_cert", 0, vault::kIdentityLabel, "ok", ""});
  Status st = [&] {
    PendingEventScope scope(&p);
    return ImportIdentityCertUnlogged(handle, der);
  }();
  FinishPending(p, st);
  return st;
}

Status EmbeddedBackend::PinAuthority(SessionHandle handle, std::span<const uint8_t> cert_der) {
  PendingEvent p = StartPending(handle, audit::Event{"pin_authority", 0, vault::kAuthorityLabel, "ok", ""});
  Status st = [&] {
    PendingEventScope scope(&p);
    return PinAuthorityUnlogged(handle, cert_der);
  }();
  FinishPending(p, st);
  return st;
}

Result<Bytes> EmbeddedBackend::UpdateRequest(SessionHandle handle, const std::string& label) {
  PendingEvent p = StartPending(handle, audit::Event{"update_request", 0, vault::kStateLabel, "ok", label});
  Result<Bytes> r = [&] {
    PendingEventScope scope(&p);
    return UpdateRequestUnlogged(handle, label);
  }();
  FinishPending(p, r.status());
  return r;
}

Result<Backend::ApplyResult> EmbeddedBackend::ApplyUpdate(SessionHandle handle, std::span<const uint8_t> package) {
  PendingEvent p = StartPending(handle, audit::Event{"apply_update", 0, vault::kStateLabel, "ok", ""});
  Result<ApplyResult> r = [&] {
    PendingEventScope scope(&p);
    return ApplyUpdateUnlogged(handle, package);
  }();
  FinishPending(p, r.status());
  return r;
}

}  // namespace certvault::core
