// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "daemon/dispatch.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <tuple>

#include "src/base/status_macros.h"
#include "src/core/embedded_backend.h"
#include "src/quorum/quorum.h"

namespace certvault::daemon {
namespace {

using ipc::Decoder;
using ipc::Encoder;
using ipc::Op;

constexpr uint32_t kReplyOverhead = 256;  // header, status and length fields of a response

void Reply(Encoder& out, const Status& s) { ipc::Put(out, s); }

template <typename T>
void Reply(Encoder& out, const Result<T>& r) {
  ipc::Put(out, r.status());
  if (r.ok()) ipc::Put(out, *r);
}

template <typename Tuple>
bool DecodeTuple(Decoder& in, Tuple& args, bool whole) {
  return std::apply([&](auto&... a) { return whole ? ipc::GetAll(in, &a...) : ipc::GetFields(in, &a...); }, args);
}

// Forward: decode the arguments A..., call Method, reply with its result.
template <auto Method, typename... A>
bool Forward(CallContext& c, Decoder& in, Encoder& out) {
  std::tuple<A...> args;
  if (!DecodeTuple(in, args, true)) return false;
  Reply(out, std::apply([&](auto&... a) { return (c.app->backend.get()->*Method)(a...); }, args));
  return true;
}

// RunOut: calls `fn(OutBuf)` with an output buffer as `spec` asks and writes
// the reply of a call ending in an OutBuf (PKCS#11 §5.2): the status, the
// length after OK or kBufferTooSmall, the bytes after an OK call with a buffer.
template <typename Fn>
Status RunOut(CallContext& c, const ipc::OutSpec& spec, Encoder& out, Fn&& fn) {
  size_t len = 0;
  OutBuf buf{nullptr, &len};
  if (spec.has_buffer) {
    // Capped so that the response (with its header) still fits in a frame.
    len = static_cast<size_t>(std::min<uint64_t>(spec.capacity, c.max_out - kReplyOverhead));
    c.scratch.resize(std::max<size_t>(len, 1));  // never a null pointer: that would be a length query
    buf.data = c.scratch.data();
  }
  Status s = fn(buf);
  Reply(out, s);
  if (s.ok() || s.reason() == Reason::kBufferTooSmall) {
    ipc::Put(out, uint64_t{len});
    if (s.ok() && spec.has_buffer) ipc::Put(out, std::span<const uint8_t>(c.scratch.data(), len));
  }
  if (spec.has_buffer) OPENSSL_cleanse(c.scratch.data(), c.scratch.size());  // may be plaintext or a key
  return s;
}

// ForwardOut: Forward for calls ending in an OutBuf.
template <auto Method, typename... A>
bool ForwardOut(CallContext& c, Decoder& in, Encoder& out) {
  std::tuple<A...> args;
  ipc::OutSpec spec;
  if (!DecodeTuple(in, args, false) || !ipc::GetAll(in, &spec)) return false;
  (void)RunOut(c, spec, out, [&](OutBuf buf) {
    return std::apply([&](auto&... a) { return (c.app->backend.get()->*Method)(a..., buf); }, args);
  });
  return true;
}

// PutRepeatable: whether the client may answer the next C_SignInit of the
// same key and mechanism itself: `ok`, and the backend's StateGeneration held
// still from `before` to now (docs/design/daemon.md).
void PutRepeatable(Encoder& out, Backend& b, std::optional<uint64_t> before, bool ok) {
  const std::optional<uint64_t> after = b.StateGeneration();
  ipc::Put(out, ok && before && after && *before == *after);
}

// LateInitError: a SignInit that the client answered OK from its cache failed
// when it came with C_Sign: another application changed the key (or the token)
// in between. C_Sign reports it with a code C_Sign may return.
Status LateInitError(const Status& s) {
  switch (s.reason()) {
    case Reason::kUserNotLoggedIn:
    case Reason::kSessionHandleInvalid:
    case Reason::kSessionClosed:
    case Reason::kDeviceError:
    case Reason::kDeviceMemory:
    case Reason::kDeviceRemoved:
      return s;
    default:
      return Status(StatusCode::kFailedPrecondition, Reason::kFunctionFailed,
                    "the key changed between C_SignInit and C_Sign: " + std::string(s.message()));
  }
}

// SignInitGen: SignInit, and whether it may be repeated by the client. `late`: a SignInit
// the client answered itself and now sends, before a call that could change
// its outcome (its error is then a late one).
bool SignInitGen(CallContext& c, Decoder& in, Encoder& out) {
  SessionHandle session = 0;
  Mechanism mech;
  ObjectHandle key = 0;
  bool late = false;
  if (!ipc::GetAll(in, &session, &mech, &key, &late)) return false;
  Backend& b = *c.app->backend;
  const std::optional<uint64_t> before = b.StateGeneration();
  Status s = b.SignInit(session, mech, key);
  Reply(out, late && !s.ok() ? LateInitError(s) : s);
  PutRepeatable(out, b, before, s.ok());
  return true;
}

bool SignInitSign(CallContext& c, Decoder& in, Encoder& out) {
  SessionHandle session = 0;
  Mechanism mech;
  ObjectHandle key = 0;
  std::span<const uint8_t> data;
  ipc::OutSpec spec;
  if (!ipc::GetFields(in, &session, &mech, &key, &data) || !ipc::GetAll(in, &spec)) return false;
  Backend& b = *c.app->backend;
  const std::optional<uint64_t> before = b.StateGeneration();
  Status init = b.SignInit(session, mech, key);
  if (!init.ok()) {
    Reply(out, LateInitError(init));
    PutRepeatable(out, b, before, false);
    return true;
  }
  Status s = RunOut(c, spec, out, [&](OutBuf buf) { return b.Sign(session, data, buf); });
  PutRepeatable(out, b, before, s.ok() || s.reason() == Reason::kBufferTooSmall);
  return true;
}

bool Ping(CallContext&, Decoder& in, Encoder& out) {
  if (!in.empty()) return false;
  Reply(out, OkStatus());
  return true;
}

// TokenAllowed: [daemon] token_access for the token in `slot` (by its label,
// if initialized) and, for C_InitToken, for the label it is about to get.
Status TokenAllowed(CallContext& c, SlotId slot, const std::string* new_label) {
  if (c.token_access == nullptr || c.token_access->empty()) return OkStatus();
  const Peer peer{c.app->uid, c.app->gids};
  Result<TokenInfo> info = c.app->backend->GetTokenInfo(slot);
  if (info.ok()) CV_RETURN_IF_ERROR(MayUseToken(*c.token_access, info->label, peer));
  if (new_label != nullptr) CV_RETURN_IF_ERROR(MayUseToken(*c.token_access, *new_label, peer));
  return OkStatus();
}

// TokenGuarded: C_InitToken after the token_access check (a peer not allowed
// to use a token must not guess its SO PIN, nor take its label).
template <bool (*Fn)(CallContext&, Decoder&, Encoder&)>
bool TokenGuarded(CallContext& c, Decoder& in, Encoder& out) {
  Decoder peek = in;
  SlotId slot = 0;
  SecretBytes pin;
  std::string label;
  if (!ipc::GetFields(peek, &slot, &pin, &label)) return false;
  Status s = TokenAllowed(c, slot, &label);
  if (!s.ok()) {
    Reply(out, s);
    return true;
  }
  return Fn(c, in, out);
}

// QuorumStore: the vault's store for the approval calls (issue 16), only for
// the token of `op_id` and only if the peer may use it ([daemon] token_access).
Result<storage::Store*> QuorumStore(CallContext& c, const std::string& op_id) {
  auto* embedded = dynamic_cast<core::EmbeddedBackend*>(c.app->backend.get());
  if (embedded == nullptr) return Status(Reason::kFunctionNotSupported, "certvaultd: no vault for approvals");
  CV_ASSIGN_OR_RETURN(storage::Store * store, embedded->MaintenanceStore());
  CV_ASSIGN_OR_RETURN(storage::TokenId token, quorum::FindOpToken(*store, op_id));
  if (c.token_access == nullptr || c.token_access->empty()) return store;
  CV_ASSIGN_OR_RETURN(std::vector<storage::TokenRow> tokens, store->ListTokens());
  for (const storage::TokenRow& t : tokens) {
    if (t.token_id != token) continue;
    CV_RETURN_IF_ERROR(MayUseToken(*c.token_access, t.label, Peer{c.app->uid, c.app->gids}));
    return store;
  }
  return Status(Reason::kTokenNotPresent, "certvaultd: the operation's token is gone");
}

// QuorumApprovalTicket / QuorumStoreApproval: the vault side of `certvault
// quorum approve` in daemon mode (src/quorum/quorum.h); the custodian's
// token is opened, and its share sealed, in the CLI's process.
bool QuorumApprovalTicket(CallContext& c, Decoder& in, Encoder& out) {
  std::string id;
  if (!ipc::GetAll(in, &id)) return false;
  Result<storage::Store*> store = QuorumStore(c, id);
  Reply(out, store.ok() ? quorum::ApprovalTicket(**store, id) : Result<Bytes>(store.status()));
  return true;
}

bool QuorumStoreApproval(CallContext& c, Decoder& in, Encoder& out) {
  std::string id;
  std::span<const uint8_t> approval;
  if (!ipc::GetAll(in, &id, &approval)) return false;
  Result<storage::Store*> store = QuorumStore(c, id);
  Result<quorum::ApprovalState> state =
      store.ok() ? quorum::StoreApproval(**store, id, approval) : Result<quorum::ApprovalState>(store.status());
  Reply(out, state.status());
  if (state.ok()) ipc::PutAll(out, static_cast<uint32_t>(state->approvals), static_cast<uint32_t>(state->k));
  return true;
}

bool OpenSession(CallContext& c, Decoder& in, Encoder& out) {
  SlotId slot = 0;
  uint64_t flags = 0;
  if (!ipc::GetAll(in, &slot, &flags)) return false;
  // Sessions are the way to C_Login (and PIN guesses): only on allowed tokens.
  if (Status s = TokenAllowed(c, slot, nullptr); !s.ok()) {
    Reply(out, s);
    return true;
  }
  std::lock_guard<std::mutex> lock(c.app->mu);
  if (c.app->sessions.size() >= c.max_sessions) {
    Reply(out, Status(Reason::kSessionCount, "certvaultd: too many sessions for this client"));
    return true;
  }
  Result<SessionHandle> r = c.app->backend->OpenSession(slot, flags);
  if (r.ok()) c.app->sessions[*r] = slot;
  Reply(out, r);
  return true;
}

bool CloseSession(CallContext& c, Decoder& in, Encoder& out) {
  SessionHandle session = 0;
  if (!ipc::GetAll(in, &session)) return false;
  std::lock_guard<std::mutex> lock(c.app->mu);
  Status s = c.app->backend->CloseSession(session);
  if (s.ok()) c.app->sessions.erase(session);
  Reply(out, s);
  return true;
}

bool CloseAllSessions(CallContext& c, Decoder& in, Encoder& out) {
  SlotId slot = 0;
  if (!ipc::GetAll(in, &slot)) return false;
  std::lock_guard<std::mutex> lock(c.app->mu);
  Status s = c.app->backend->CloseAllSessions(slot);
  if (s.ok()) std::erase_if(c.app->sessions, [slot](const auto& e) { return e.second == slot; });
  Reply(out, s);
  return true;
}

bool GetAttributeValue(CallContext& c, Decoder& in, Encoder& out) {
  SessionHandle session = 0;
  ObjectHandle object = 0;
  std::vector<AttributeRequest> requests;
  if (!ipc::GetFields(in, &session, &object) || !ipc::GetAttributeTypes(in, &requests) || !in.empty()) return false;
  Reply(out, c.app->backend->GetAttributeValue(session, object, &requests));
  ipc::PutAttributeReplies(out, requests);
  return true;
}

bool FindObjects(CallContext& c, Decoder& in, Encoder& out) {
  SessionHandle session = 0;
  uint64_t max = 0;
  if (!ipc::GetAll(in, &session, &max)) return false;
  // Each handle takes 8 bytes of the response: no more than fit in a frame.
  max = std::min<uint64_t>(max, (c.max_out - kReplyOverhead) / 8);
  Reply(out, c.app->backend->FindObjects(session, static_cast<size_t>(max)));
  return true;
}

bool GenerateRandom(CallContext& c, Decoder& in, Encoder& out) {
  SessionHandle session = 0;
  uint64_t n = 0;
  if (!ipc::GetAll(in, &session, &n) || n > c.max_out - kReplyOverhead) return false;
  c.scratch.resize(static_cast<size_t>(n));
  std::span<uint8_t> buf(c.scratch.data(), static_cast<size_t>(n));
  Status s = c.app->backend->GenerateRandom(session, buf);
  Reply(out, s);
  if (s.ok()) ipc::Put(out, std::span<const uint8_t>(buf));
  OPENSSL_cleanse(c.scratch.data(), c.scratch.size());
  return true;
}

// Serialized: a handler that runs under ctx.pin_mu.
template <bool (*Fn)(CallContext&, Decoder&, Encoder&)>
bool Serialized(CallContext& c, Decoder& in, Encoder& out) {
  std::lock_guard<std::mutex> lock(*c.pin_mu);
  return Fn(c, in, out);
}

using Handler = bool (*)(CallContext&, Decoder&, Encoder&);
using B = Backend;
using S = SessionHandle;
using O = ObjectHandle;
using M = Mechanism;
using Span = std::span<const uint8_t>;

struct Entry {
  Op op;
  Handler fn;
};

// The table, in Op order; kHandlers below is indexed by op.
constexpr Entry kEntries[] = {
    {Op::kPing, Ping},
    {Op::kGetSlotList, Forward<&B::GetSlotList, bool>},
    {Op::kGetSlotInfo, Forward<&B::GetSlotInfo, SlotId>},
    {Op::kGetTokenInfo, Forward<&B::GetTokenInfo, SlotId>},
    {Op::kGetMechanismList, Forward<&B::GetMechanismList, SlotId>},
    {Op::kGetMechanismInfo, Forward<&B::GetMechanismInfo, SlotId, MechanismType>},
    {Op::kInitToken, TokenGuarded<Serialized<Forward<&B::InitToken, SlotId, SecretBytes, std::string>>>},
    {Op::kInitTokenWithOptions,
     TokenGuarded<Serialized<Forward<&B::InitTokenWithOptions, SlotId, SecretBytes, std::string, B::TokenOptions>>>},
    {Op::kInitPin, Forward<&B::InitPin, S, SecretBytes>},
    {Op::kSetPin, Serialized<Forward<&B::SetPin, S, SecretBytes, SecretBytes>>},
    {Op::kOpenSession, OpenSession},
    {Op::kCloseSession, CloseSession},
    {Op::kCloseAllSessions, CloseAllSessions},
    {Op::kGetSessionInfo, Forward<&B::GetSessionInfo, S>},
    {Op::kLogin, Serialized<Forward<&B::Login, S, UserType, SecretBytes>>},
    {Op::kLogout, Forward<&B::Logout, S>},
    {Op::kCreateObject, Forward<&B::CreateObject, S, AttributeSet>},
    {Op::kCopyObject, Forward<&B::CopyObject, S, O, AttributeSet>},
    {Op::kDestroyObject, Forward<&B::DestroyObject, S, O>},
    {Op::kReplaceCertificate, Forward<&B::ReplaceCertificate, S, O, AttributeSet>},
    {Op::kDestroyProtectedObjects, Forward<&B::DestroyProtectedObjects, S, std::vector<uint64_t>, std::string>},
    {Op::kQuorumApprovalTicket, QuorumApprovalTicket},
    {Op::kQuorumStoreApproval, QuorumStoreApproval},
    {Op::kGetObjectSize, Forward<&B::GetObjectSize, S, O>},
    {Op::kGetAttributeValue, GetAttributeValue},
    {Op::kSetAttributeValue, Forward<&B::SetAttributeValue, S, O, AttributeSet>},
    {Op::kFindObjectsInit, Forward<&B::FindObjectsInit, S, AttributeSet>},
    {Op::kFindObjects, FindObjects},
    {Op::kFindObjectsFinal, Forward<&B::FindObjectsFinal, S>},
    {Op::kEncryptInit, Forward<&B::EncryptInit, S, M, O>},
    {Op::kEncrypt, ForwardOut<&B::Encrypt, S, Span>},
    {Op::kEncryptUpdate, ForwardOut<&B::EncryptUpdate, S, Span>},
    {Op::kEncryptFinal, ForwardOut<&B::EncryptFinal, S>},
    {Op::kDecryptInit, Forward<&B::DecryptInit, S, M, O>},
    {Op::kDecrypt, ForwardOut<&B::Decrypt, S, Span>},
    {Op::kDecryptUpdate, ForwardOut<&B::DecryptUpdate, S, Span>},
    {Op::kDecryptFinal, ForwardOut<&B::DecryptFinal, S>},
    {Op::kDigestInit, Forward<&B::DigestInit, S, M>},
    {Op::kDigest, ForwardOut<&B::Digest, S, Span>},
    {Op::kDigestUpdate, Forward<&B::DigestUpdate, S, Span>},
    {Op::kDigestKey, Forward<&B::DigestKey, S, O>},
    {Op::kDigestFinal, ForwardOut<&B::DigestFinal, S>},
    {Op::kSignInit, Forward<&B::SignInit, S, M, O>},
    {Op::kSign, ForwardOut<&B::Sign, S, Span>},
    {Op::kSignUpdate, Forward<&B::SignUpdate, S, Span>},
    {Op::kSignFinal, ForwardOut<&B::SignFinal, S>},
    {Op::kVerifyInit, Forward<&B::VerifyInit, S, M, O>},
    {Op::kVerify, Forward<&B::Verify, S, Span, Span>},
    {Op::kVerifyUpdate, Forward<&B::VerifyUpdate, S, Span>},
    {Op::kVerifyFinal, Forward<&B::VerifyFinal, S, Span>},
    {Op::kCancelOperation, Forward<&B::CancelOperation, S, B::OperationKind>},
    {Op::kGenerateKey, Forward<&B::GenerateKey, S, M, AttributeSet>},
    {Op::kGenerateKeyPair, Forward<&B::GenerateKeyPair, S, M, AttributeSet, AttributeSet>},
    {Op::kWrapKey, ForwardOut<&B::WrapKey, S, M, O, O>},
    {Op::kUnwrapKey, Forward<&B::UnwrapKey, S, M, O, Span, AttributeSet>},
    {Op::kDeriveKey, Forward<&B::DeriveKey, S, M, O, AttributeSet>},
    {Op::kVaultStatus, Forward<&B::VaultStatus>},
    {Op::kSeedRandom, Forward<&B::SeedRandom, S, Span>},
    {Op::kGenerateRandom, GenerateRandom},
    {Op::kSignInitGen, SignInitGen},
    {Op::kSignInitSign, SignInitSign},
};

constexpr std::array<Handler, static_cast<size_t>(Op::kOpLimit)> BuildTable() {
  std::array<Handler, static_cast<size_t>(Op::kOpLimit)> t{};
  for (const Entry& e : kEntries) t[static_cast<size_t>(e.op)] = e.fn;
  return t;
}
constexpr auto kHandlers = BuildTable();

}  // namespace

bool Dispatch(Op op, CallContext& ctx, Decoder& in, Encoder& out) {
  const size_t index = static_cast<size_t>(op);
  if (index >= kHandlers.size() || kHandlers[index] == nullptr) return false;
  return kHandlers[index](ctx, in, out);
}

}  // namespace certvault::daemon
