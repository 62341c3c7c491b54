// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// DaemonBackend: one method per Backend call, each encoding its arguments in
// the order docs/formats/ipc.md lists them. Session handles are checked and
// translated by Call.
#include <algorithm>

#include "src/base/status_macros.h"
#include "src/ipc/daemon_backend.h"

namespace certvault::ipc {
namespace {

// NoFields: responses with nothing after the status.
bool NoFields(Decoder&, const Status&) { return true; }

// Into: a response with one field `*v` when OK.
template <typename T>
auto Into(T* v) {
  return [v](Decoder& d, const Status& s) { return !s.ok() || Get(d, v); };
}

template <typename... T>
auto Args(const T&... v) {
  return [&v...](Encoder& e) { PutAll(e, v...); };
}

constexpr size_t kRandomChunk = 64 * 1024;

}  // namespace

Result<std::vector<SlotId>> DaemonBackend::GetSlotList(bool token_present) {
  std::vector<SlotId> slots;
  CV_RETURN_IF_ERROR(Call({Op::kGetSlotList, std::nullopt, true}, Args(token_present), Into(&slots)));
  return slots;
}

Result<SlotInfo> DaemonBackend::GetSlotInfo(SlotId slot) {
  SlotInfo info;
  CV_RETURN_IF_ERROR(Call({Op::kGetSlotInfo, std::nullopt, true}, Args(slot), Into(&info)));
  return info;
}

Result<TokenInfo> DaemonBackend::GetTokenInfo(SlotId slot) {
  TokenInfo info;
  CV_RETURN_IF_ERROR(Call({Op::kGetTokenInfo, std::nullopt, true}, Args(slot), Into(&info)));
  return info;
}

Result<std::vector<MechanismInfo>> DaemonBackend::GetMechanismList(SlotId slot) {
  std::vector<MechanismInfo> list;
  CV_RETURN_IF_ERROR(Call({Op::kGetMechanismList, std::nullopt, true}, Args(slot), Into(&list)));
  return list;
}

Result<MechanismInfo> DaemonBackend::GetMechanismInfo(SlotId slot, MechanismType type) {
  MechanismInfo info;
  CV_RETURN_IF_ERROR(Call({Op::kGetMechanismInfo, std::nullopt, true}, Args(slot, type), Into(&info)));
  return info;
}

Status DaemonBackend::InitToken(SlotId slot, const SecretBytes& so_pin, std::string_view label) {
  BeforeChange();
  return Call({Op::kInitToken, std::nullopt}, Args(slot, so_pin, label), NoFields);
}

Status DaemonBackend::InitTokenWithOptions(SlotId slot, const SecretBytes& so_pin, std::string_view label,
                                           const TokenOptions& options) {
  BeforeChange();
  return Call({Op::kInitTokenWithOptions, std::nullopt}, Args(slot, so_pin, label, options), NoFields);
}

Status DaemonBackend::InitPin(SessionHandle session, const SecretBytes& pin) {
  BeforeChange();
  return Call({Op::kInitPin, session}, Args(pin), NoFields);
}

Status DaemonBackend::SetPin(SessionHandle session, const SecretBytes& old_pin, const SecretBytes& new_pin) {
  BeforeChange();
  return Call({Op::kSetPin, session}, Args(old_pin, new_pin), NoFields);
}

Result<SessionHandle> DaemonBackend::OpenSession(SlotId slot, uint64_t flags) {
  uint64_t local = 0;
  uint16_t epoch = 0;
  CV_RETURN_IF_ERROR(Call({Op::kOpenSession, std::nullopt, true}, Args(slot, flags), Into(&local), &epoch));
  if (local == 0 || local > kLocalMask || epoch == 0) return MalformedResponse();
  return (uint64_t{epoch} << kEpochShift) | local;
}

Status DaemonBackend::CloseSession(SessionHandle session) {
  BeforeChange();
  return Call({Op::kCloseSession, session}, Args(), NoFields);
}

Status DaemonBackend::CloseAllSessions(SlotId slot) {
  BeforeChange();
  return Call({Op::kCloseAllSessions, std::nullopt}, Args(slot), NoFields);
}

Result<SessionInfo> DaemonBackend::GetSessionInfo(SessionHandle session) {
  SessionInfo info;
  CV_RETURN_IF_ERROR(Call({Op::kGetSessionInfo, session}, Args(), Into(&info)));
  return info;
}

Status DaemonBackend::Login(SessionHandle session, UserType user, const SecretBytes& pin) {
  BeforeChange();
  return Call({Op::kLogin, session}, Args(user, pin), NoFields);
}

Status DaemonBackend::Logout(SessionHandle session) {
  BeforeChange();
  return Call({Op::kLogout, session}, Args(), NoFields);
}

Result<ObjectHandle> DaemonBackend::CreateObject(SessionHandle session, const AttributeSet& tmpl) {
  ObjectHandle h = 0;
  CV_RETURN_IF_ERROR(Call({Op::kCreateObject, session}, Args(tmpl), Into(&h)));
  return h;
}

Result<ObjectHandle> DaemonBackend::CopyObject(SessionHandle session, ObjectHandle object, const AttributeSet& tmpl) {
  ObjectHandle h = 0;
  CV_RETURN_IF_ERROR(Call({Op::kCopyObject, session}, Args(object, tmpl), Into(&h)));
  return h;
}

Status DaemonBackend::DestroyObject(SessionHandle session, ObjectHandle object) {
  BeforeChange();
  return Call({Op::kDestroyObject, session}, Args(object), NoFields);
}

Result<ObjectHandle> DaemonBackend::ReplaceCertificate(SessionHandle session, ObjectHandle old,
                                                       const AttributeSet& tmpl) {
  BeforeChange();
  ObjectHandle h = 0;
  CV_RETURN_IF_ERROR(Call({Op::kReplaceCertificate, session}, Args(old, tmpl), Into(&h)));
  return h;
}

Status DaemonBackend::DestroyProtectedObjects(SessionHandle session, const std::vector<ObjectHandle>& objects,
                                              const std::string& op_id) {
  BeforeChange();
  return Call({Op::kDestroyProtectedObjects, session}, Args(objects, std::string_view(op_id)), NoFields);
}

Result<Bytes> DaemonBackend::QuorumApprovalTicket(const std::string& op_id) {
  std::string ticket;
  CV_RETURN_IF_ERROR(
      Call({Op::kQuorumApprovalTicket, std::nullopt, true}, Args(std::string_view(op_id)), Into(&ticket)));
  return Bytes(ticket.begin(), ticket.end());
}

Result<std::pair<uint32_t, uint32_t>> DaemonBackend::QuorumStoreApproval(const std::string& op_id,
                                                                         std::span<const uint8_t> approval) {
  std::pair<uint32_t, uint32_t> state;
  auto decode = [&](Decoder& d, const Status& s) { return !s.ok() || GetFields(d, &state.first, &state.second); };
  CV_RETURN_IF_ERROR(
      Call({Op::kQuorumStoreApproval, std::nullopt, false}, Args(std::string_view(op_id), approval), decode));
  return state;
}

Result<uint64_t> DaemonBackend::GetObjectSize(SessionHandle session, ObjectHandle object) {
  uint64_t size = 0;
  CV_RETURN_IF_ERROR(Call({Op::kGetObjectSize, session}, Args(object), Into(&size)));
  return size;
}

Status DaemonBackend::GetAttributeValue(SessionHandle session, ObjectHandle object,
                                        std::vector<AttributeRequest>* requests) {
  if (requests == nullptr) return Status(Reason::kArgumentsBad);
  // The per-request results come back whatever the overall status.
  return Call(
      {Op::kGetAttributeValue, session},
      [&](Encoder& e) {
        Put(e, object);
        PutAttributeTypes(e, *requests);
      },
      [&](Decoder& d, const Status& s) {
        // A reply that did not fit the frame limit comes as a bare error status.
        return (!s.ok() && d.empty()) || GetAttributeReplies(d, requests);
      });
}

Status DaemonBackend::SetAttributeValue(SessionHandle session, ObjectHandle object, const AttributeSet& tmpl) {
  BeforeChange();
  return Call({Op::kSetAttributeValue, session}, Args(object, tmpl), NoFields);
}

Status DaemonBackend::FindObjectsInit(SessionHandle session, const AttributeSet& tmpl) {
  return Call({Op::kFindObjectsInit, session}, Args(tmpl), NoFields);
}

Result<std::vector<ObjectHandle>> DaemonBackend::FindObjects(SessionHandle session, size_t max) {
  std::vector<ObjectHandle> found;
  const uint64_t max64 = max;
  CV_RETURN_IF_ERROR(Call({Op::kFindObjects, session}, Args(max64), Into(&found)));
  if (found.size() > max) return MalformedResponse();
  return found;
}

Status DaemonBackend::FindObjectsFinal(SessionHandle session) {
  return Call({Op::kFindObjectsFinal, session}, Args(), NoFields);
}

// OutCall: a call that fills an OutBuf (PKCS#11 §5.2). The response carries
// the length after OK or kBufferTooSmall, and the bytes after an OK call
// with a buffer.
Status DaemonBackend::OutCall(Op op, SessionHandle session, std::span<const uint8_t> fields,
                              std::span<const uint8_t> in, bool has_in, OutBuf out, bool* repeatable) {
  if (out.len == nullptr) return Status(Reason::kArgumentsBad);
  const OutSpec spec{out.data != nullptr, out.data != nullptr ? uint64_t{*out.len} : 0};
  auto encode = [&](Encoder& e) {
    e.WriteBytes(fields);  // already encoded
    if (has_in) Put(e, in);
    Put(e, spec);
  };
  auto decode = [&](Decoder& d, const Status& s) {
    if (s.ok() || s.reason() == Reason::kBufferTooSmall) {
      uint64_t len = 0;
      if (!Get(d, &len)) return false;
      if (s.ok() && spec.has_buffer) {
        std::span<const uint8_t> bytes;
        if (!Get(d, &bytes) || bytes.size() != len || len > spec.capacity) return false;
        std::copy(bytes.begin(), bytes.end(), out.data);
      }
      *out.len = static_cast<size_t>(len);
    }
    return repeatable == nullptr || Get(d, repeatable);
  };
  return Call({op, session}, encode, decode);
}

Status DaemonBackend::MechKeyCall(Op op, SessionHandle session, const Mechanism& mech, ObjectHandle key) {
  return Call({op, session}, Args(mech, key), NoFields);
}

Status DaemonBackend::DataCall(Op op, SessionHandle session, std::span<const uint8_t> in, bool splittable) {
  const size_t chunk = std::min<size_t>(kRandomChunk, request_limit_.load(std::memory_order_relaxed) - 256);
  if (!splittable || in.size() <= chunk) return Call({op, session}, Args(in), NoFields);
  do {
    std::span<const uint8_t> part = in.first(std::min(in.size(), chunk));
    CV_RETURN_IF_ERROR(Call({op, session}, Args(part), NoFields));
    in = in.subspan(part.size());
  } while (!in.empty());
  return OkStatus();
}

Status DaemonBackend::EncryptInit(SessionHandle session, const Mechanism& mech, ObjectHandle key) {
  return MechKeyCall(Op::kEncryptInit, session, mech, key);
}
Status DaemonBackend::Encrypt(SessionHandle session, std::span<const uint8_t> in, OutBuf out) {
  return OutCall(Op::kEncrypt, session, {}, in, true, out);
}
Status DaemonBackend::EncryptUpdate(SessionHandle session, std::span<const uint8_t> in, OutBuf out) {
  return OutCall(Op::kEncryptUpdate, session, {}, in, true, out);
}
Status DaemonBackend::EncryptFinal(SessionHandle session, OutBuf out) {
  return OutCall(Op::kEncryptFinal, session, {}, {}, false, out);
}
Status DaemonBackend::DecryptInit(SessionHandle session, const Mechanism& mech, ObjectHandle key) {
  return MechKeyCall(Op::kDecryptInit, session, mech, key);
}
Status DaemonBackend::Decrypt(SessionHandle session, std::span<const uint8_t> in, OutBuf out) {
  return OutCall(Op::kDecrypt, session, {}, in, true, out);
}
Status DaemonBackend::DecryptUpdate(SessionHandle session, std::span<const uint8_t> in, OutBuf out) {
  return OutCall(Op::kDecryptUpdate, session, {}, in, true, out);
}
Status DaemonBackend::DecryptFinal(SessionHandle session, OutBuf out) {
  return OutCall(Op::kDecryptFinal, session, {}, {}, false, out);
}
Status DaemonBackend::DigestInit(SessionHandle session, const Mechanism& mech) {
  return Call({Op::kDigestInit, session}, Args(mech), NoFields);
}
Status DaemonBackend::Digest(SessionHandle session, std::span<const uint8_t> in, OutBuf out) {
  return OutCall(Op::kDigest, session, {}, in, true, out);
}
Status DaemonBackend::DigestUpdate(SessionHandle session, std::span<const uint8_t> in) {
  return DataCall(Op::kDigestUpdate, session, in, true);
}
Status DaemonBackend::DigestKey(SessionHandle session, ObjectHandle key) {
  return Call({Op::kDigestKey, session}, Args(key), NoFields);
}
Status DaemonBackend::DigestFinal(SessionHandle session, OutBuf out) {
  return OutCall(Op::kDigestFinal, session, {}, {}, false, out);
}
Status DaemonBackend::VerifyInit(SessionHandle session, const Mechanism& mech, ObjectHandle key) {
  return MechKeyCall(Op::kVerifyInit, session, mech, key);
}
Status DaemonBackend::Verify(SessionHandle session, std::span<const uint8_t> in, std::span<const uint8_t> sig) {
  return Call({Op::kVerify, session}, Args(in, sig), NoFields);
}
Status DaemonBackend::VerifyUpdate(SessionHandle session, std::span<const uint8_t> in) {
  return DataCall(Op::kVerifyUpdate, session, in, true);
}
Status DaemonBackend::VerifyFinal(SessionHandle session, std::span<const uint8_t> sig) {
  return DataCall(Op::kVerifyFinal, session, sig, false);
}
Status DaemonBackend::CancelOperation(SessionHandle session, OperationKind kind) {
  if (kind == OperationKind::kSign) {  // a pending SignInit is cancelled here; the daemon has none
    std::lock_guard<std::mutex> lock(sign_mu_);
    sign_.erase(session);
  }
  return Call({Op::kCancelOperation, session}, Args(kind), NoFields);
}

Result<ObjectHandle> DaemonBackend::GenerateKey(SessionHandle session, const Mechanism& mech,
                                                const AttributeSet& tmpl) {
  ObjectHandle h = 0;
  CV_RETURN_IF_ERROR(Call({Op::kGenerateKey, session}, Args(mech, tmpl), Into(&h)));
  return h;
}

Result<Backend::KeyPair> DaemonBackend::GenerateKeyPair(SessionHandle session, const Mechanism& mech,
                                                        const AttributeSet& public_tmpl,
                                                        const AttributeSet& private_tmpl) {
  KeyPair pair;
  CV_RETURN_IF_ERROR(Call({Op::kGenerateKeyPair, session}, Args(mech, public_tmpl, private_tmpl), Into(&pair)));
  return pair;
}

Status DaemonBackend::WrapKey(SessionHandle session, const Mechanism& mech, ObjectHandle wrapping_key, ObjectHandle key,
                              OutBuf out) {
  // Mechanism and keys, then the OutSpec.
  WireBuffer fields;
  Encoder fe(&fields);
  PutAll(fe, mech, wrapping_key, key);
  return OutCall(Op::kWrapKey, session, fields, {}, false, out);
}

Result<ObjectHandle> DaemonBackend::UnwrapKey(SessionHandle session, const Mechanism& mech, ObjectHandle unwrapping_key,
                                              std::span<const uint8_t> wrapped, const AttributeSet& tmpl) {
  ObjectHandle h = 0;
  CV_RETURN_IF_ERROR(Call({Op::kUnwrapKey, session}, Args(mech, unwrapping_key, wrapped, tmpl), Into(&h)));
  return h;
}

Result<ObjectHandle> DaemonBackend::DeriveKey(SessionHandle session, const Mechanism& mech, ObjectHandle base_key,
                                              const AttributeSet& tmpl) {
  ObjectHandle h = 0;
  CV_RETURN_IF_ERROR(Call({Op::kDeriveKey, session}, Args(mech, base_key, tmpl), Into(&h)));
  return h;
}

Status DaemonBackend::VaultStatus() { return Call({Op::kVaultStatus, std::nullopt, true}, Args(), NoFields); }

Status DaemonBackend::SeedRandom(SessionHandle session, std::span<const uint8_t> seed) {
  return DataCall(Op::kSeedRandom, session, seed, true);
}

Status DaemonBackend::GenerateRandom(SessionHandle session, std::span<uint8_t> out) {
  // Large requests go in chunks so that every frame stays under the limit.
  const size_t chunk = std::min<size_t>(kRandomChunk, request_limit_.load(std::memory_order_relaxed) - 256);
  do {
    std::span<uint8_t> part = out.first(std::min(out.size(), chunk));
    const uint64_t n = part.size();
    CV_RETURN_IF_ERROR(Call({Op::kGenerateRandom, session}, Args(n), [&](Decoder& d, const Status& s) {
      std::span<const uint8_t> bytes;
      if (!s.ok()) return true;
      if (!Get(d, &bytes) || bytes.size() != part.size()) return false;
      std::copy(bytes.begin(), bytes.end(), part.begin());
      return true;
    }));
    out = out.subspan(part.size());
  } while (!out.empty());
  return OkStatus();
}

}  // namespace certvault::ipc
