// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EmbeddedBackend: cryptographic operations (PKCS#11 §5.8 - §5.13).
//
// PKCS#11 §5.2 output conventions live in Deliver(): a length query (null
// buffer) answers the size and keeps the operation; a too-small buffer gets
// kBufferTooSmall with the size and keeps it, holding any computed output for
// the repeated call; every other error, and success, ends the operation.
#include <cstring>

#include "src/base/status_macros.h"
#include "src/core/embedded_backend.h"
#include "src/core/lifecycle.h"
#include "src/core/policy.h"

namespace certvault::core {
namespace {

using engine::OpKind;

constexpr size_t kMaxBlock = 16;  // output of an Update exceeds its input by at most a block

size_t Index(OpKind kind) { return static_cast<size_t>(kind); }

Result<policy::Use> UseFor(OpKind kind) {
  switch (kind) {
    case OpKind::kSign: return policy::Use::kSign;
    case OpKind::kVerify: return policy::Use::kVerify;
    case OpKind::kEncrypt: return policy::Use::kEncrypt;
    case OpKind::kDecrypt: return policy::Use::kDecrypt;
    default: return Status(Reason::kFunctionFailed, "operation kind without a key use");
  }
}

// ProtectDeadline: when an operation of `kind` with `key` stops being
// reusable because the key's crypto-period ends (lifecycle::ProtectUntil):
// only protecting operations end with it. A steady-clock time, so that the
// reuse check costs one comparison.
std::chrono::steady_clock::time_point ProtectDeadline(const AttributeSet& key, OpKind kind) {
  constexpr auto kNever = std::chrono::steady_clock::time_point::max();
  if (kind != OpKind::kSign && kind != OpKind::kEncrypt) return kNever;
  std::optional<lifecycle::Day> until = lifecycle::ProtectUntil(key);
  if (!until) return kNever;
  const auto left = std::chrono::sys_time<std::chrono::seconds>(*until) -
                    std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  // Reuse needs a validation younger than kMaxStaleness anyway: a deadline
  // beyond a day changes nothing (and a far end date would overflow).
  if (left > std::chrono::hours(24)) return kNever;
  return std::chrono::steady_clock::now() + left;
}

using Compute = std::function<Status(SecureVector*)>;

// Deliver: see the file comment. `exact`: `max` is the exact size (signatures),
// so a too-small buffer is refused without computing. `ends`: success ends the
// operation (single-part and final calls).
// Finish: ends the operation in `slot` after success, keeping it in `spare`
// for reuse when it allows that.
void Finish(std::optional<ActiveOp>& slot, std::optional<ActiveOp>& spare) {
  if (slot->reusable) {
    slot->multipart = false;
    slot->has_pending = false;
    slot->pending.clear();
    spare = std::move(slot);
  }
  slot.reset();
}

Status Deliver(std::optional<ActiveOp>& slot, std::optional<ActiveOp>& spare, OutBuf out, size_t max, bool exact,
               bool ends, const Compute& compute) {
  ActiveOp& a = *slot;
  if (out.len == nullptr) {
    slot.reset();
    return Status(Reason::kArgumentsBad, "null output length pointer");
  }
  if (!a.has_pending) {
    if (out.data == nullptr) {
      *out.len = max;
      return OkStatus();
    }
    if (exact && *out.len < max) {
      *out.len = max;
      return Status(Reason::kBufferTooSmall, "output buffer too small");
    }
    a.pending.clear();
    Status st = compute(&a.pending);
    if (!st.ok()) {
      slot.reset();
      return st;
    }
    a.has_pending = true;
  } else if (out.data == nullptr) {
    *out.len = a.pending.size();
    return OkStatus();
  }
  if (*out.len < a.pending.size()) {
    *out.len = a.pending.size();
    return Status(Reason::kBufferTooSmall, "output buffer too small");
  }
  if (!a.pending.empty()) std::memcpy(out.data, a.pending.data(), a.pending.size());
  *out.len = a.pending.size();
  a.pending.clear();
  a.has_pending = false;
  if (ends) Finish(slot, spare);
  return OkStatus();
}

// EndVerify: a verification always ends its operation; a clean one may be
// kept for reuse. Returns `st`.
Status EndVerify(std::optional<ActiveOp>& slot, std::optional<ActiveOp>& spare, Status st) {
  if (st.ok()) {
    Finish(slot, spare);
  } else {
    slot.reset();
  }
  return st;
}

// Ends the operation in `slot` if `st` is an error; returns `st`.
Status EndOnError(std::optional<ActiveOp>& slot, Status st) {
  if (!st.ok()) slot.reset();
  return st;
}

}  // namespace

bool EmbeddedBackend::ReuseSpare(Session& s, OpKind kind, const Mechanism& mech, ObjectHandle key) {
  std::optional<ActiveOp>& spare = s.spare[Index(kind)];
  if (!spare) return false;
  const bool same = spare->key == key && spare->mech == mech.type &&
                    std::holds_alternative<std::monostate>(mech.params);
  // Fresh iff nothing in the vault changed since the key was validated, the
  // validation is recent, and nobody logged in or out meanwhile.
  const auto now = std::chrono::steady_clock::now();
  const bool fresh = spare->validated_gen == changes_->Load() &&
                     now - spare->validated_at < ChangeCounter::kMaxStaleness && now < spare->protect_until &&
                     spare->login_epoch == s.runtime->login_epoch.load(std::memory_order_acquire);
  if (same && fresh && spare->op->Reset()) {
    s.ops[Index(kind)] = std::move(spare);
    spare.reset();
    return true;
  }
  spare.reset();
  return false;
}

Status EmbeddedBackend::OpInit(SessionHandle handle, OpKind kind, const Mechanism& mech, ObjectHandle key) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  // Trusted time gates every signature (a fast clock read between full
  // checks; C_Sign itself is not touched).
  if (kind == OpKind::kSign) {
    if (Status clock = clock_.Check(); !clock.ok()) {
      // Audited (issue 17, A.33-A.35); a refused login is, as a failed login.
      RecordFor(handle, {"clock_refused", key, "", EventRecorder::ResultOf(clock), std::string(clock.message())});
      return clock;
    }
  }
  std::lock_guard<std::mutex> lock(s->mu);
  std::optional<ActiveOp>& slot = s->ops[Index(kind)];
  if (slot) return Status(Reason::kOperationActive, "an operation of this kind is active");
  if (kind != OpKind::kDigest && ReuseSpare(*s, kind, mech, key)) return OkStatus();
  CV_RETURN_IF_ERROR(CheckAllowed(*s, mech.type));
  const uint64_t epoch = s->runtime->login_epoch.load(std::memory_order_acquire);
  KeyCacheEntry entry;
  if (kind != OpKind::kDigest) {
    CV_ASSIGN_OR_RETURN(entry, FetchKey(*s, key, Reason::kKeyHandleInvalid));
    CV_ASSIGN_OR_RETURN(policy::Use use, UseFor(kind));
    CV_RETURN_IF_ERROR(policy::Permits(entry.object->attrs, use));
    // Key state and crypto-period: checked here, once per *Init (a reused
    // operation is bounded by protect_until instead), never per call.
    CV_RETURN_IF_ERROR(lifecycle::CheckUse(entry.object->attrs, use, lifecycle::Today()));
    if (!policy::AllowsMechanism(entry.object->attrs, mech.type)) {
      return Status(Reason::kMechanismInvalid, "mechanism not in the key's CKA_ALLOWED_MECHANISMS");
    }
  }
  CV_ASSIGN_OR_RETURN(std::unique_ptr<engine::CryptoOp> op, engine::NewOperation(kind, mech, entry.key));
  // v3.0 §4.9, CKA_ALWAYS_AUTHENTICATE: "If CK_TRUE, the user has to supply
  // the PIN for each use (sign or decrypt) with the key."
  const bool always_auth = (kind == OpKind::kSign || kind == OpKind::kDecrypt) &&
                           entry.object->attrs.GetBoolOr(CKA_ALWAYS_AUTHENTICATE, false);
  slot.emplace();
  slot->needs_context_login = always_auth;
  if (always_auth) s->awaiting_context_login = Index(kind);
  slot->op = std::move(op);
  slot->key = key;
  slot->mech = mech.type;
  // An always-authenticate operation is never kept: each use needs its login.
  slot->reusable = !always_auth && kind != OpKind::kDigest && std::holds_alternative<std::monostate>(mech.params);
  slot->validated_gen = entry.validated_gen;
  slot->validated_at = entry.validated_at;
  slot->login_epoch = epoch;
  if (kind != OpKind::kDigest) slot->protect_until = ProtectDeadline(entry.object->attrs, kind);
  return OkStatus();
}

Result<ActiveOp*> EmbeddedBackend::ActiveFor(Session& s, OpKind kind) {
  std::optional<ActiveOp>& slot = s.ops[Index(kind)];
  if (!slot) return Status(Reason::kOperationNotInitialized, "operation not initialized");
  if (slot->needs_context_login && !slot->context_login_done) {
    // v3.0 §4.9: the key is usable only in the authenticated state a
    // C_Login(CKU_CONTEXT_SPECIFIC) after the *Init gives; without it the
    // call fails with CKR_USER_NOT_LOGGED_IN, and like any other error of the
    // call it ends the operation (§5.2), so the next *Init starts afresh.
    slot.reset();
    return Status(Reason::kUserNotLoggedIn, "the key needs C_Login(CKU_CONTEXT_SPECIFIC) after each *Init");
  }
  return &*slot;
}

Status EmbeddedBackend::OpRun(SessionHandle handle, OpKind kind, std::span<const uint8_t> in, OutBuf out) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  std::optional<ActiveOp>& slot = s->ops[Index(kind)];
  CV_RETURN_IF_ERROR(ActiveFor(*s, kind).status());
  if (slot->multipart) {
    slot.reset();
    return Status(Reason::kOperationActive, "a multi-part operation is in progress");
  }
  engine::CryptoOp* op = slot->op.get();
  return Deliver(slot, s->spare[Index(kind)], out, op->MaxOutputLength(in.size()),
                 kind == OpKind::kSign || kind == OpKind::kDigest, /*ends=*/true,
                 [&](SecureVector* o) { return op->Run(in, o); });
}

Status EmbeddedBackend::OpUpdate(SessionHandle handle, OpKind kind, std::span<const uint8_t> in, OutBuf out) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  std::optional<ActiveOp>& slot = s->ops[Index(kind)];
  CV_RETURN_IF_ERROR(ActiveFor(*s, kind).status());
  slot->multipart = true;
  engine::CryptoOp* op = slot->op.get();
  if (out.len == nullptr) {  // sign, verify, digest: no output
    SecureVector ignored;
    return EndOnError(slot, op->Update(in, &ignored));
  }
  return Deliver(slot, s->spare[Index(kind)], out, in.size() + kMaxBlock, /*exact=*/false, /*ends=*/false,
                 [&](SecureVector* o) { return op->Update(in, o); });
}

Status EmbeddedBackend::OpFinal(SessionHandle handle, OpKind kind, OutBuf out) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(handle));
  std::lock_guard<std::mutex> lock(s->mu);
  std::optional<ActiveOp>& slot = s->ops[Index(kind)];
  CV_RETURN_IF_ERROR(ActiveFor(*s, kind).status());
  engine::CryptoOp* op = slot->op.get();
  return Deliver(slot, s->spare[Index(kind)], out, op->MaxOutputLength(0),
                 kind == OpKind::kSign || kind == OpKind::kDigest, /*ends=*/true,
                 [&](SecureVector* o) { return op->Final(o); });
}

Status EmbeddedBackend::EncryptInit(SessionHandle h, const Mechanism& m, ObjectHandle k) {
  return OpInit(h, OpKind::kEncrypt, m, k);
}
Status EmbeddedBackend::Encrypt(SessionHandle h, std::span<const uint8_t> in, OutBuf out) {
  return OpRun(h, OpKind::kEncrypt, in, out);
}
Status EmbeddedBackend::EncryptUpdate(SessionHandle h, std::span<const uint8_t> in, OutBuf out) {
  if (out.len == nullptr) return Status(Reason::kArgumentsBad, "null output length pointer");
  return OpUpdate(h, OpKind::kEncrypt, in, out);
}
Status EmbeddedBackend::EncryptFinal(SessionHandle h, OutBuf out) { return OpFinal(h, OpKind::kEncrypt, out); }
Status EmbeddedBackend::DecryptInit(SessionHandle h, const Mechanism& m, ObjectHandle k) {
  return OpInit(h, OpKind::kDecrypt, m, k);
}
Status EmbeddedBackend::Decrypt(SessionHandle h, std::span<const uint8_t> in, OutBuf out) {
  return OpRun(h, OpKind::kDecrypt, in, out);
}
Status EmbeddedBackend::DecryptUpdate(SessionHandle h, std::span<const uint8_t> in, OutBuf out) {
  if (out.len == nullptr) return Status(Reason::kArgumentsBad, "null output length pointer");
  return OpUpdate(h, OpKind::kDecrypt, in, out);
}
Status EmbeddedBackend::DecryptFinal(SessionHandle h, OutBuf out) { return OpFinal(h, OpKind::kDecrypt, out); }
Status EmbeddedBackend::DigestInit(SessionHandle h, const Mechanism& m) { return OpInit(h, OpKind::kDigest, m, 0); }
Status EmbeddedBackend::Digest(SessionHandle h, std::span<const uint8_t> in, OutBuf out) {
  return OpRun(h, OpKind::kDigest, in, out);
}
Status EmbeddedBackend::DigestUpdate(SessionHandle h, std::span<const uint8_t> in) {
  return OpUpdate(h, OpKind::kDigest, in, OutBuf{});
}
Status EmbeddedBackend::DigestFinal(SessionHandle h, OutBuf out) { return OpFinal(h, OpKind::kDigest, out); }
Status EmbeddedBackend::SignInit(SessionHandle h, const Mechanism& m, ObjectHandle k) {
  return OpInit(h, OpKind::kSign, m, k);
}
Status EmbeddedBackend::Sign(SessionHandle h, std::span<const uint8_t> in, OutBuf out) {
  return OpRun(h, OpKind::kSign, in, out);
}
Status EmbeddedBackend::SignUpdate(SessionHandle h, std::span<const uint8_t> in) {
  return OpUpdate(h, OpKind::kSign, in, OutBuf{});
}
Status EmbeddedBackend::SignFinal(SessionHandle h, OutBuf out) { return OpFinal(h, OpKind::kSign, out); }
Status EmbeddedBackend::VerifyInit(SessionHandle h, const Mechanism& m, ObjectHandle k) {
  return OpInit(h, OpKind::kVerify, m, k);
}
Status EmbeddedBackend::VerifyUpdate(SessionHandle h, std::span<const uint8_t> in) {
  return OpUpdate(h, OpKind::kVerify, in, OutBuf{});
}

Status EmbeddedBackend::Verify(SessionHandle h, std::span<const uint8_t> in, std::span<const uint8_t> sig) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(h));
  std::lock_guard<std::mutex> lock(s->mu);
  std::optional<ActiveOp>& slot = s->ops[Index(OpKind::kVerify)];
  if (!slot) return Status(Reason::kOperationNotInitialized, "operation not initialized");
  Status st = slot->multipart ? Status(Reason::kOperationActive, "a multi-part verify is in progress")
                              : slot->op->VerifyRun(in, sig);
  return EndVerify(slot, s->spare[Index(OpKind::kVerify)], std::move(st));  // C_Verify always ends it
}

Status EmbeddedBackend::VerifyFinal(SessionHandle h, std::span<const uint8_t> sig) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(h));
  std::lock_guard<std::mutex> lock(s->mu);
  std::optional<ActiveOp>& slot = s->ops[Index(OpKind::kVerify)];
  if (!slot) return Status(Reason::kOperationNotInitialized, "operation not initialized");
  Status st = slot->op->VerifyFinal(sig);
  return EndVerify(slot, s->spare[Index(OpKind::kVerify)], std::move(st));
}

Status EmbeddedBackend::CancelOperation(SessionHandle h, OperationKind kind) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(h));
  OpKind op;
  switch (kind) {
    case OperationKind::kEncrypt: op = OpKind::kEncrypt; break;
    case OperationKind::kDecrypt: op = OpKind::kDecrypt; break;
    case OperationKind::kDigest: op = OpKind::kDigest; break;
    case OperationKind::kSign: op = OpKind::kSign; break;
    case OperationKind::kVerify: op = OpKind::kVerify; break;
    default: return Status(Reason::kArgumentsBad, "unknown operation kind");
  }
  std::lock_guard<std::mutex> lock(s->mu);
  s->ops[Index(op)].reset();
  return OkStatus();
}

Status EmbeddedBackend::DigestKey(SessionHandle h, ObjectHandle key) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(h));
  std::lock_guard<std::mutex> lock(s->mu);
  std::optional<ActiveOp>& slot = s->ops[Index(OpKind::kDigest)];
  if (!slot) return Status(Reason::kOperationNotInitialized, "operation not initialized");
  Result<std::shared_ptr<const Object>> obj = FetchObject(*s, key, Reason::kKeyHandleInvalid);
  if (!obj.ok()) return EndOnError(slot, obj.status());
  // Only the value of a secret key that could be read anyway may be digested.
  if ((*obj)->object_class() != CKO_SECRET_KEY || policy::Readable((*obj)->attrs, CKA_VALUE) != Reason::kNone) {
    return EndOnError(slot, Status(Reason::kKeyIndigestible, "the key cannot be digested"));
  }
  Reason reason;
  Result<SecureVector> value = ReadAttribute(*s, **obj, CKA_VALUE, &reason);
  if (!value.ok()) return EndOnError(slot, Status(Reason::kKeyIndigestible, "the key cannot be digested"));
  slot->multipart = true;
  SecureVector ignored;
  return EndOnError(slot, slot->op->Update(*value, &ignored));
}

}  // namespace certvault::core
