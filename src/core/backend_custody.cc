// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Quorum-protected keys (issue 16, docs/design/quorum.md "Quorum-protected
// keys"): CKA_CV_QUORUM_PROTECTED is set only under an approved `create-key`
// operation and such a key leaves only under an approved `destroy-key` one.
// No PKCS#11 call may modify, copy or destroy it; the flag is in the
// object's record, MACed under the token key, so it cannot be cleared in
// the database either.
#include <string>

#include "src/base/status_macros.h"
#include "src/core/embedded_backend.h"
#include "src/core/lifecycle.h"
#include "src/core/policy_pin.h"
#include "src/core/quorum_flag.h"
#include "src/core/quorum_hook.h"
#include "src/model/vendor_attributes.h"

namespace certvault::core {
namespace {

constexpr char kCreateKey[] = "create-key";
constexpr char kDestroyKey[] = "destroy-key";

bool IsProtected(const Object& obj) { return obj.attrs.GetBoolOr(kCkaCvQuorumProtected, false); }

// TakeOpId: the CKA_CV_QUORUM_OP of `tmpl` ("" if absent), removed from it.
std::string TakeOpId(AttributeSet* tmpl) {
  if (tmpl == nullptr) return "";
  const Attribute* a = tmpl->Find(kCkaCvQuorumOp);
  if (a == nullptr) return "";
  std::string id(a->value.begin(), a->value.end());
  tmpl->Erase(kCkaCvQuorumOp);
  return id;
}

// CheckApprovedPolicy: a token whose quorum pinned a policy generates keys
// only under that policy (policy_pin.h); one without a pin is not checked,
// unless its verified record says it has a quorum (quorum_flag.h): then the
// pin was deleted from vault.db and generation is refused.
Status CheckApprovedPolicy(storage::Store& store, Session& s, const std::string& policy_path) {
  const bool pinned = store.GetMetaRow("quorum/" + std::to_string(s.token) + "/policy").ok();
  SecretBytes tk;
  {
    std::shared_lock<std::shared_mutex> rt_lock(s.runtime->mu);
    tk = s.runtime->token_key.Clone();
  }
  if (tk.empty()) {
    if (!pinned) return OkStatus();  // nobody logged in: only public objects, which the set does not cover
    return Status(Reason::kUserNotLoggedIn, "keys of a token with a quorum need the user logged in");
  }
  if (!pinned) {
    CV_ASSIGN_OR_RETURN(bool has_quorum, TokenHasQuorum(store, s.token, tk));
    return has_quorum ? QuorumRecordMissing(s.token, "policy pin") : OkStatus();
  }
  CV_ASSIGN_OR_RETURN(Bytes digest, PolicyDigest(policy_path));
  return CheckPolicyPin(store, s.token, tk, digest);
}

}  // namespace

Status EmbeddedBackend::CheckNotProtected(const Object& obj, std::string_view action) {
  if (!IsProtected(obj)) return OkStatus();
  return Status(Reason::kActionProhibited,
                "the key is quorum-protected (CKA_CV_QUORUM_PROTECTED): it cannot be " + std::string(action) +
                    " through PKCS#11; destroy it with an approved destroy-key operation (certvault delete --op ID)");
}

Status EmbeddedBackend::CheckProtectedChange(const Object& obj, const AttributeSet& tmpl) {
  if (!IsProtected(obj)) return OkStatus();
  // A state transition that keeps the key material (suspend, deactivate,
  // mark compromised) stays possible: it is how a CA key is taken out of
  // use in an emergency. Destroying the material is a destruction.
  const bool transition = lifecycle::IsTransitionRequest(tmpl);
  if (transition && tmpl.GetUlong(kCkaCvKeyState) != std::optional<uint64_t>(kCvStateDestroyed)) return OkStatus();
  return CheckNotProtected(obj, transition ? "destroyed" : "modified");
}

Result<SecretBytes> EmbeddedBackend::SessionTokenKey(Session& s) {
  std::shared_lock<std::shared_mutex> rt_lock(s.runtime->mu);
  if (s.runtime->login != UserType::kUser || s.runtime->token_key.empty()) {
    return Status(Reason::kUserNotLoggedIn, "a quorum-protected key needs the user logged in");
  }
  return s.runtime->token_key.Clone();
}

Result<bool> EmbeddedBackend::TakeCreateRequest(Session& s, AttributeSet* pub_tmpl, AttributeSet* priv_tmpl) {
  {
    CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
    CV_RETURN_IF_ERROR(CheckApprovedPolicy(*store, s, config_.policy_path));  // issue 16: policy under the quorum
  }
  std::string pub_op = TakeOpId(pub_tmpl), priv_op = TakeOpId(priv_tmpl);
  if (!pub_op.empty() && !priv_op.empty() && pub_op != priv_op) {
    return Status(Reason::kTemplateInconsistent, "the two templates name different quorum operations");
  }
  const std::string op_id = priv_op.empty() ? pub_op : priv_op;
  for (AttributeSet* t : {pub_tmpl, priv_tmpl}) {
    if (t == nullptr || !t->Has(kCkaCvQuorumProtected)) continue;
    if (op_id.empty() && t->GetBoolOr(kCkaCvQuorumProtected, false)) {
      return Status(Reason::kActionProhibited,
                    "a quorum-protected key is created only under an approved create-key operation "
                    "(CKA_CV_QUORUM_OP; certvault quorum request --op create-key)");
    }
    if (!op_id.empty()) t->Erase(kCkaCvQuorumProtected);  // the vault sets it below
  }
  if (op_id.empty()) return false;
  CV_RETURN_IF_ERROR(AuthorizeCreate(s, op_id));
  return true;
}

// One approved create-key operation serves one login: a CA ceremony makes
// its root, issuing and OCSP keys under one approval. The grant is tied to
// the login epoch, so a logout (or another login) ends it.
Status EmbeddedBackend::AuthorizeCreate(Session& s, const std::string& op_id) {
  const uint64_t epoch = s.runtime->login_epoch.load(std::memory_order_acquire);
  {
    std::lock_guard<std::mutex> lock(custody_mu_);
    auto it = create_grants_.find(s.token);
    if (it != create_grants_.end() && it->second.epoch == epoch && it->second.op_id == op_id) return OkStatus();
  }
  CV_ASSIGN_OR_RETURN(SecretBytes tk, SessionTokenKey(s));
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  CV_RETURN_IF_ERROR(AuthorizeQuorumOp(*store, s.token, tk, op_id, kCreateKey));
  std::lock_guard<std::mutex> lock(custody_mu_);
  create_grants_[s.token] = CreateGrant{epoch, op_id};
  return OkStatus();
}

void EmbeddedBackend::MarkProtected(AttributeSet* pub, AttributeSet* priv) {
  for (AttributeSet* a : {pub, priv}) {
    if (a != nullptr) a->SetBool(kCkaCvQuorumProtected, true);
  }
}

// The quorum record as stored (src/quorum/quorum_config.cc): version u8 |
// quorum id[16] | epoch u32 | k u8 | n u8 | ... Only k and n are read, for
// information: the record's MAC needs the token key, which no PIN gave here.
std::optional<MechanismInfo> EmbeddedBackend::QuorumMechanism(storage::TokenId token) {
  Result<storage::Store*> store = Store();
  if (!store.ok()) return std::nullopt;
  Result<Bytes> row = (*store)->GetMetaRow("quorum/" + std::to_string(token) + "/config");
  if (!row.ok()) return std::nullopt;
  constexpr size_t kKAt = 1 + 16 + 4;
  MechanismInfo info{kCkmCvQuorum, 0, 0, 0};
  if (row->size() > kKAt + 1) {
    info.min_key_size = (*row)[kKAt];
    info.max_key_size = (*row)[kKAt + 1];
  }
  return info;
}

Status EmbeddedBackend::CheckReinitAllowed(storage::Store& store, storage::TokenId token,
                                           const SecretBytes* token_key) {
  Result<Bytes> quorum = store.GetMetaRow("quorum/" + std::to_string(token) + "/config");
  if (quorum.ok()) {
    return Status(Reason::kActionProhibited,
                  "the token has a quorum: it is re-initialized only by zeroizing it under the quorum "
                  "(certvault zeroize --op ID)");
  }
  if (token_key == nullptr) return OkStatus();
  // The record is gone, but the token's verified row may say it had one.
  CV_ASSIGN_OR_RETURN(bool has_quorum, TokenHasQuorum(store, token, *token_key));
  return has_quorum ? QuorumRecordMissing(token, "record") : OkStatus();
}

Status EmbeddedBackend::DestroyProtectedObjects(SessionHandle handle, const std::vector<ObjectHandle>& objects,
                                                const std::string& op_id) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->rw()) return Status(Reason::kSessionReadOnly, "destroying a token object needs a R/W session");
  std::vector<std::shared_ptr<const Object>> objs;
  for (ObjectHandle h : objects) {
    CV_ASSIGN_OR_RETURN(std::shared_ptr<const Object> obj, FetchObject(*s, h));
    if (!obj->token_object || !IsProtected(*obj)) {
      return Status(Reason::kArgumentsBad, "object " + std::to_string(h) + " is not a quorum-protected key");
    }
    objs.push_back(std::move(obj));
  }
  if (objs.empty()) return Status(Reason::kArgumentsBad, "no object to destroy");
  CV_ASSIGN_OR_RETURN(SecretBytes tk, SessionTokenKey(*s));
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  CV_RETURN_IF_ERROR(AuthorizeQuorumOp(*store, s->token, tk, op_id, kDestroyKey));
  for (const std::shared_ptr<const Object>& obj : objs) {
    CV_RETURN_IF_ERROR(CommitObjects(*store, s->token, IntegrityKeyOf(*s->runtime), obj.get(), {},
                                     [&] { return store->DeleteObject(obj->id); }));
    changes_->Bump();
    {
      std::unique_lock<std::shared_mutex> rt_lock(s->runtime->mu);
      s->runtime->key_cache.erase(obj->id);
    }
    const Attribute* label_attr = obj->attrs.Find(CKA_LABEL);
    std::string label = label_attr ? std::string(label_attr->value.begin(), label_attr->value.end()) : "";
    RecordFor(handle, {"destroy_object", obj->id, label, "ok", "quorum-protected key, operation " + op_id});
  }
  return OkStatus();
}

}  // namespace certvault::core
