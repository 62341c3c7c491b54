// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EmbeddedBackend: update requests and packages (issue 14,
// docs/design/provisioning.md, docs/formats/update-package.md). Every check
// runs before anything is written; the key, its certificates and the new
// counter are then stored in one transaction, which also re-checks that the
// provisioning state is the version the checks read (CommitObjects), so two
// concurrent applies of one package cannot both succeed.
#include <ctime>

#include "src/base/status_macros.h"
#include "src/core/embedded_backend.h"
#include "src/core/key_policy.h"
#include "src/core/policy.h"
#include "src/core/vault_objects.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_der.h"
#include "src/crypto/ossl_error.h"
#include "src/crypto/random.h"
#include "src/model/vendor_attributes.h"
#include "src/provision/provision.h"

namespace certvault::core {
namespace {

constexpr size_t kNonceSize = 32;

Bytes ValueOf(const Object& obj) {
  std::optional<std::span<const uint8_t>> v = obj.attrs.GetBytes(CKA_VALUE);
  return v ? Bytes(v->begin(), v->end()) : Bytes();
}

Result<ossl::UniquePtr<X509>> CertOf(const Object& obj) {
  Bytes der = ValueOf(obj);
  const unsigned char* p = der.data();
  ossl::UniquePtr<X509> cert(crypto::D2iX509(&p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  if (cert == nullptr) return ossl::OpenSslError("d2i_X509", Reason::kDeviceError);
  return cert;
}

Status Refuse(std::string_view why) { return Status(Reason::kDataInvalid, std::string(why)); }

// CheckHeader: the package is for this token, answers an outstanding request
// and is the next update (docs/design/provisioning.md, "Apply").
Status CheckHeader(const provision::PackageHeader& h, const std::string& serial, const vault::State& state,
                   int64_t now) {
  if (h.target_serial != serial) return Refuse("the package is for another vault (target serial)");
  if (h.expires_unix <= now) return Refuse("the package has expired");
  if (h.counter != state.counter + 1) {
    return Refuse(h.counter <= state.counter ? "the package was applied already or is older (counter)"
                                             : "the package skips an update (counter)");
  }
  for (const Bytes& n : state.nonces) {
    if (n == h.nonce) return OkStatus();
  }
  return Refuse("the package answers no outstanding request of this vault (nonce)");
}

// KeyId: CKA_ID of a delivered key: SHA-1 of its public key bits, the
// certificate's usual subjectKeyIdentifier (RFC 5280 §4.2.1.2 method 1).
Result<Bytes> KeyId(X509* cert) {
  Bytes id(20);
  unsigned int len = 0;
  if (X509_pubkey_digest(cert, crypto::DigestByName("SHA1"), id.data(), &len) != 1) {
    return ossl::OpenSslError("X509_pubkey_digest");
  }
  id.resize(len);
  return id;
}

Result<ossl::UniquePtr<X509>> ParseCert(std::span<const uint8_t> der) {
  const unsigned char* p = der.data();
  ossl::UniquePtr<X509> cert(crypto::D2iX509(&p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  if (cert == nullptr) return ossl::OpenSslError("d2i_X509", Reason::kDataInvalid);
  return cert;
}

// DeliveredKeyTemplate: a provisioned private key: sensitive, never
// extractable, CKA_LOCAL false (Origin::kUnwrap), usable for signing.
AttributeSet DeliveredKeyTemplate(KeyType kt, const std::string& label, const Bytes& id) {
  AttributeSet t;
  t.SetUlong(CKA_CLASS, CKO_PRIVATE_KEY);
  t.SetUlong(CKA_KEY_TYPE, kt);
  t.SetBool(CKA_TOKEN, true);
  t.SetBool(CKA_PRIVATE, true);
  t.SetBool(CKA_SENSITIVE, true);
  t.SetBool(CKA_EXTRACTABLE, false);
  t.SetBool(CKA_SIGN, true);
  if (kt == CKK_RSA) t.SetBool(CKA_DECRYPT, true);
  t.SetString(CKA_LABEL, label);
  t.Set(CKA_ID, id);
  return t;
}

}  // namespace

Result<std::vector<storage::ObjectRow>> EmbeddedBackend::DeliveredRows(Session& s,
                                                                       const provision::PackageContent& content,
                                                                       Bytes* out_key_id) {
  if (content.private_keys.size() != 1 || content.certificates.empty()) {
    return Refuse("the package must deliver one key and its certificate chain");
  }
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> cert, ParseCert(content.certificates[0]));
  CV_ASSIGN_OR_RETURN(*out_key_id, KeyId(cert.get()));
  CV_ASSIGN_OR_RETURN(engine::NewKey key, engine::ImportPkcs8(content.private_keys[0]));
  KeyType kt = key.attrs.GetUlong(CKA_KEY_TYPE).value_or(0);
  CV_ASSIGN_OR_RETURN(AttributeSet attrs,
                      policy::ApplyTemplate(CKO_PRIVATE_KEY, kt, DeliveredKeyTemplate(kt, content.label, *out_key_id),
                                            policy::Origin::kUnwrap, policy::kCkUnavailableInformation));
  CV_RETURN_IF_ERROR(policy::MergeEngineAttributes(&attrs, key.attrs));
  CV_RETURN_IF_ERROR(CheckKeyAllowed(config_.policy.get(), attrs));  // policy.toml [algorithms]
  CV_RETURN_IF_ERROR(ApplyKeyPeriod(config_.policy.get(), &attrs, lifecycle::Today()));  // [crypto_periods]
  attrs.SetUlong(kCkaCvProvenance, kCvProvenanceProvisioned);
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const engine::ReadyKey> ready, engine::LoadKey(attrs, &key.material));
  if (EVP_PKEY_eq(X509_get0_pubkey(cert.get()), ready->pkey.get()) != 1) {
    ossl::ClearErrors();
    return Refuse("the package's certificate does not certify its key");
  }
  std::vector<storage::ObjectRow> rows;
  AttributeSet material;
  material.Set(kCvaKeyMaterial, key.material.Bytes(SecretAccess::Get()));
  CV_ASSIGN_OR_RETURN(storage::ObjectRow key_row, SealNewRow(s, attrs, material));
  rows.push_back(std::move(key_row));
  for (size_t i = 0; i < content.certificates.size(); ++i) {
    CV_ASSIGN_OR_RETURN(AttributeSet t, vault::CertificateTemplate(content.certificates[i], content.label,
                                                                   i == 0 ? *out_key_id : Bytes(), false));
    CV_ASSIGN_OR_RETURN(AttributeSet cert_attrs, policy::ApplyTemplate(CKO_CERTIFICATE, 0, t, policy::Origin::kCreate,
                                                                       policy::kCkUnavailableInformation));
    CV_ASSIGN_OR_RETURN(storage::ObjectRow row, SealNewRow(s, cert_attrs, {}));
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<Bytes> EmbeddedBackend::SignReceipt(Session& s, const std::string& serial, uint64_t counter,
                                           const Bytes& package_hash, const Bytes& key_id) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const Object> id_cert_obj, FindVaultObject(s, kCvRoleIdentityCert));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> id_cert, CertOf(*id_cert_obj));
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const engine::ReadyKey> id_key, VaultPrivateKey(s, kCvRoleIdentityKey));
  provision::UpdateReceipt r{serial, counter, package_hash, key_id, "ok"};
  return provision::SignUpdateReceipt(r, {id_key->pkey.get(), id_cert.get(), nullptr});
}

Result<Bytes> EmbeddedBackend::UpdateRequestUnlogged(SessionHandle handle, const std::string& label) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, ProvisioningSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  CV_ASSIGN_OR_RETURN(storage::TokenRow token, store->GetToken(s->token));
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const Object> state_obj, FindVaultObject(*s, kCvRoleState));
  CV_ASSIGN_OR_RETURN(vault::State state, ReadState(*s, *state_obj));
  Bytes nonce(kNonceSize);
  CV_RETURN_IF_ERROR(crypto::RandomBytes(nonce));
  state.nonces.push_back(nonce);
  if (state.nonces.size() > vault::kMaxNonces) state.nonces.erase(state.nonces.begin());
  CV_ASSIGN_OR_RETURN(storage::ObjectRow row, StateRow(*s, *state_obj, state));
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const Object> id_cert_obj, FindVaultObject(*s, kCvRoleIdentityCert));
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const Object> tr_cert_obj, FindVaultObject(*s, kCvRoleTransportCert));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> id_cert, CertOf(*id_cert_obj));
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const engine::ReadyKey> id_key, VaultPrivateKey(*s, kCvRoleIdentityKey));
  provision::UpdateRequest req{token.serial, state.counter, nonce, ValueOf(*tr_cert_obj), label};
  CV_ASSIGN_OR_RETURN(Bytes der, provision::SignUpdateRequest(req, {id_key->pkey.get(), id_cert.get(), nullptr}));
  // The nonce is remembered before the request leaves the vault.
  CV_RETURN_IF_ERROR(CommitObjects(*store, s->token, IntegrityKeyOf(*s->runtime), state_obj.get(), {row},
                                   [&] { return store->UpdateObject(row); }));
  changes_->Bump();
  return der;
}

Result<Backend::ApplyResult> EmbeddedBackend::ApplyUpdateUnlogged(SessionHandle handle, std::span<const uint8_t> package) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, ProvisioningSession(handle));
  std::optional<storage::TokenRow> new_token;
  Result<ApplyResult> out = [&] {
    std::lock_guard<std::mutex> lock(s->mu);
    return ApplyUpdateLocked(*s, package, &new_token);
  }();
  // A new capacity reaches every session of the token (AdoptVerifiedToken
  // takes each session's lock, so not while holding this one).
  if (out.ok() && new_token.has_value()) AdoptVerifiedToken(*new_token);
  return out;
}

Status EmbeddedBackend::CommitUpdate(Session& s, storage::Store& store, const Object& state_obj,
                                     const storage::ObjectRow& state_row, const UpdatePlan& plan,
                                     std::optional<storage::TokenRow>* out_token) {
  std::vector<storage::ObjectRow> added = plan.rows;
  added.insert(added.end(), plan.vault_rows.begin(), plan.vault_rows.end());
  added.push_back(state_row);
  std::vector<const Object*> removed = {&state_obj};
  for (const auto& obj : plan.removed) removed.push_back(obj.get());
  std::function<Status(storage::TokenRow&)> edit;
  if (plan.capacity.has_value()) {
    edit = [&](storage::TokenRow& row) -> Status {
      CV_RETURN_IF_ERROR(CheckNewCapacity(store, s.token, *plan.capacity));
      row.capacity = *plan.capacity;
      *out_token = row;
      return OkStatus();
    };
  }
  CV_RETURN_IF_ERROR(CommitObjectSet(store, s.token, IntegrityKeyOf(*s.runtime), removed, added, [&] {
    CV_RETURN_IF_ERROR(CheckCapacity(store, s, plan.rows));
    CV_RETURN_IF_ERROR(store.UpdateObject(state_row));
    for (const auto& obj : plan.removed) CV_RETURN_IF_ERROR(store.DeleteObject(obj->id));
    if (!plan.vault_rows.empty()) CV_RETURN_IF_ERROR(store.InsertObjects(plan.vault_rows));
    return plan.rows.empty() ? OkStatus() : store.InsertObjects(plan.rows);
  }, edit));
  changes_->Bump();
  if (!plan.removed.empty()) {
    std::unique_lock<std::shared_mutex> rt_lock(s.runtime->mu);
    for (const auto& obj : plan.removed) s.runtime->key_cache.erase(obj->id);
  }
  return OkStatus();
}

Result<Backend::ApplyResult> EmbeddedBackend::ApplyUpdateLocked(Session& s, std::span<const uint8_t> package,
                                                                std::optional<storage::TokenRow>* out_token) {
  Result<std::shared_ptr<const Object>> authority_obj = FindVaultObject(s, kCvRoleAuthority);
  if (!authority_obj.ok()) {
    if (authority_obj.status().code() != StatusCode::kNotFound) return authority_obj.status();
    return Status(Reason::kFunctionNotSupported, "this vault is in user mode: it accepts no update packages");
  }
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> authority, CertOf(**authority_obj));
  CV_ASSIGN_OR_RETURN(provision::VerifiedPackage pkg, provision::VerifyUpdatePackage(package, authority.get()));
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  CV_ASSIGN_OR_RETURN(storage::TokenRow token, store->GetToken(s.token));
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const Object> state_obj, FindVaultObject(s, kCvRoleState));
  CV_ASSIGN_OR_RETURN(vault::State state, ReadState(s, *state_obj));
  CV_RETURN_IF_ERROR(clock_.Check());  // the expiry means nothing on a clock set back
  CV_RETURN_IF_ERROR(CheckHeader(pkg.header, token.serial, state, static_cast<int64_t>(time(nullptr))));
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const engine::ReadyKey> transport, VaultPrivateKey(s, kCvRoleTransportKey));
  CV_ASSIGN_OR_RETURN(provision::PackageContent content, provision::OpenUpdatePackage(pkg, transport->pkey.get()));
  UpdatePlan plan;
  if (content.kind == provision::UpdateKind::kRotateAuthority) {
    // Issue 14: "the authority can be rotated only by a package signed by
    // the current one": the pinned certificate itself, not a signer it
    // delegated to with the cvProvisioning EKU.
    if (X509_cmp(pkg.signer_cert.get(), authority.get()) != 0) {
      return Status(Reason::kSignatureInvalid, "only the pinned authority itself may rotate the authority");
    }
    CV_ASSIGN_OR_RETURN(plan, PlanRotation(s, content, *authority_obj));
  } else {
    CV_ASSIGN_OR_RETURN(plan, PlanUpdate(s, content));
  }
  std::erase(state.nonces, pkg.header.nonce);
  state.counter = pkg.header.counter;
  CV_ASSIGN_OR_RETURN(storage::ObjectRow state_row, StateRow(s, *state_obj, state));
  CV_RETURN_IF_ERROR(CommitUpdate(s, *store, *state_obj, state_row, plan, out_token));
  ApplyResult out;
  out.counter = state.counter;
  out.key_id = plan.key_id;
  CV_ASSIGN_OR_RETURN(out.receipt, SignReceipt(s, token.serial, state.counter, pkg.sha256, out.key_id));
  return out;
}

}  // namespace certvault::core
