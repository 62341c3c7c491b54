// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EmbeddedBackend: what an opened update package changes (issue 14,
// docs/formats/update-package.md "Operations"): deliver a key, renew the
// certificate of a key the vault holds (same key), delete a key, or set the
// token's capacity. Each plan is checked against the vault before anything
// is written; ApplyUpdateLocked (backend_update.cc) commits it with the new
// counter in one transaction.
#include <algorithm>

#include "src/base/status_macros.h"
#include "src/core/embedded_backend.h"
#include "src/core/policy.h"
#include "src/core/vault_objects.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/model/vendor_attributes.h"

namespace certvault::core {
namespace {

Status Refuse(std::string_view why) { return Status(Reason::kDataInvalid, std::string(why)); }

Result<ossl::UniquePtr<X509>> ParseLeaf(std::span<const uint8_t> der) {
  const unsigned char* p = der.data();
  ossl::UniquePtr<X509> cert(crypto::D2iX509(&p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  if (cert == nullptr) return ossl::OpenSslError("d2i_X509", Reason::kDataInvalid);
  return cert;
}

storage::ObjectQuery ByClass(uint64_t cls, std::optional<Bytes> id, std::optional<Bytes> label = std::nullopt) {
  storage::ObjectQuery q;
  q.object_class = cls;
  q.ckid = std::move(id);
  q.label = std::move(label);
  return q;
}

bool SameValue(const Object& obj, const Bytes& der) {
  std::optional<std::span<const uint8_t>> v = obj.attrs.GetBytes(CKA_VALUE);
  return v.has_value() && v->size() == der.size() && std::equal(v->begin(), v->end(), der.begin());
}

}  // namespace

Result<std::vector<std::shared_ptr<const Object>>> EmbeddedBackend::UserObjects(Session& s, storage::ObjectQuery q) {
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  q.token_id = s.token;
  q.include_private = true;
  CV_ASSIGN_OR_RETURN(std::vector<storage::ObjectId> ids, store->FindObjects(q));
  std::vector<std::shared_ptr<const Object>> out;
  for (storage::ObjectId oid : ids) {
    CV_ASSIGN_OR_RETURN(std::shared_ptr<const Object> obj, FetchObject(s, oid));
    // The vault's own objects are never renewed or deleted by a package.
    if (obj->token_object && !obj->attrs.Has(kCkaCvVaultRole)) out.push_back(std::move(obj));
  }
  return out;
}

Result<EmbeddedBackend::UpdatePlan> EmbeddedBackend::PlanUpdate(Session& s, const provision::PackageContent& content) {
  CV_RETURN_IF_ERROR(provision::CheckContentShape(content));
  UpdatePlan plan;
  switch (content.kind) {
    case provision::UpdateKind::kDeliverKey: {
      CV_ASSIGN_OR_RETURN(plan.rows, DeliveredRows(s, content, &plan.key_id));
      return plan;
    }
    case provision::UpdateKind::kRenewCertificate:
      return PlanRenewal(s, content);
    case provision::UpdateKind::kDeleteKey:
      return PlanDeletion(s, content);
    case provision::UpdateKind::kSetCapacity:
      plan.capacity = content.capacity;
      return plan;
    case provision::UpdateKind::kRotateAuthority:  // ApplyUpdateLocked: PlanRotation, after the signer check
    default:
      return Refuse("unknown update operation");
  }
}

// PlanRenewal: the new certificate must certify the key the vault holds under
// `key_id`; it replaces that key's certificates, and the chain certificates
// the vault does not hold yet are added (label: the key's).
Result<EmbeddedBackend::UpdatePlan> EmbeddedBackend::PlanRenewal(Session& s, const provision::PackageContent& content) {
  CV_ASSIGN_OR_RETURN(auto keys, UserObjects(s, ByClass(CKO_PRIVATE_KEY, content.key_id)));
  if (keys.size() != 1) return Refuse("the vault holds no key with the package's key id");
  CV_ASSIGN_OR_RETURN(KeyCacheEntry key, FetchKey(s, keys[0]->id, Reason::kKeyHandleInvalid));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> leaf, ParseLeaf(content.certificates[0]));
  if (EVP_PKEY_eq(X509_get0_pubkey(leaf.get()), key.key->pkey.get()) != 1) {
    ossl::ClearErrors();
    return Refuse("the renewed certificate does not certify the vault's key (not the same key)");
  }
  UpdatePlan plan;
  plan.key_id = content.key_id;
  CV_ASSIGN_OR_RETURN(plan.removed, UserObjects(s, ByClass(CKO_CERTIFICATE, content.key_id)));
  std::optional<std::span<const uint8_t>> key_label = keys[0]->attrs.GetBytes(CKA_LABEL);
  std::string label = key_label ? std::string(key_label->begin(), key_label->end()) : content.label;
  CV_ASSIGN_OR_RETURN(auto chain_held, UserObjects(s, ByClass(CKO_CERTIFICATE, std::nullopt, ToBytes(label))));
  for (size_t i = 0; i < content.certificates.size(); ++i) {
    const Bytes& der = content.certificates[i];
    bool held = i > 0 && std::any_of(chain_held.begin(), chain_held.end(),
                                     [&](const auto& obj) { return SameValue(*obj, der); });
    if (held) continue;
    CV_ASSIGN_OR_RETURN(AttributeSet t, vault::CertificateTemplate(der, label, i == 0 ? content.key_id : Bytes(), false));
    CV_ASSIGN_OR_RETURN(AttributeSet attrs, policy::ApplyTemplate(CKO_CERTIFICATE, 0, t, policy::Origin::kCreate,
                                                                  policy::kCkUnavailableInformation));
    CV_ASSIGN_OR_RETURN(storage::ObjectRow row, SealNewRow(s, attrs, {}));
    plan.rows.push_back(std::move(row));
  }
  return plan;
}

// PlanDeletion: the key under `key_id` with its public key and certificates.
Result<EmbeddedBackend::UpdatePlan> EmbeddedBackend::PlanDeletion(Session& s, const provision::PackageContent& content) {
  UpdatePlan plan;
  plan.key_id = content.key_id;
  CV_ASSIGN_OR_RETURN(plan.removed, UserObjects(s, ByClass(CKO_PRIVATE_KEY, content.key_id)));
  if (plan.removed.empty()) return Refuse("the vault holds no key with the package's key id");
  for (const auto& key : plan.removed) {
    // The package has no more power than C_DestroyObject over what it removes.
    if (!key->attrs.GetBoolOr(CKA_DESTROYABLE, true)) return Refuse("the key is not destroyable (CKA_DESTROYABLE)");
  }
  for (uint64_t cls : {uint64_t{CKO_PUBLIC_KEY}, uint64_t{CKO_CERTIFICATE}}) {
    CV_ASSIGN_OR_RETURN(auto more, UserObjects(s, ByClass(cls, content.key_id)));
    plan.removed.insert(plan.removed.end(), more.begin(), more.end());
  }
  return plan;
}

Status EmbeddedBackend::CheckNewCapacity(storage::Store& store, storage::TokenId token, uint32_t capacity) {
  if (capacity == 0) return OkStatus();
  for (uint64_t cls : {uint64_t{CKO_PRIVATE_KEY}, uint64_t{CKO_CERTIFICATE}}) {
    CV_ASSIGN_OR_RETURN(uint64_t have, store.CountObjects(token, cls));
    CV_ASSIGN_OR_RETURN(uint64_t vault_own, VaultRoleCount(store, token, cls));
    if (have - std::min(have, vault_own) > capacity) {
      return Refuse("the vault holds more keys or certificates than the new capacity " + std::to_string(capacity));
    }
  }
  return OkStatus();
}

}  // namespace certvault::core
