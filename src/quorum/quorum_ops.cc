// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Requesting, approving and authorizing a guarded operation.
#include <algorithm>
#include <map>

#include "src/base/status_macros.h"
#include "src/core/quorum_hook.h"
#include "src/crypto/aead.h"
#include "src/crypto/mac.h"
#include "src/crypto/random.h"
#include "src/quorum/events.h"
#include "src/quorum/quorum.h"
#include "src/quorum/quorum_internal.h"
#include "src/quorum/x25519_seal.h"

namespace certvault::quorum {
namespace {

using internal::Str;
constexpr uint8_t kOpVersion = 1;
constexpr char kApprovalLabel[] = "certvault quorum approval v1";

// op record = version u8 | op_id[16] | op u32-prefixed | created_ms u64 | expires_ms u64
//             | quorum_id[16] | epoch u32 | op_pub[32] | sealed op_priv
// sealed op_priv = AES-256-GCM(HKDF(TK, "certvault quorum op v1"), priv, AAD = "certvault quorum op v1"
//                  | token u64 | everything before it), so that no field can be changed without the token key.
struct OpRecord {
  Bytes id;
  std::string op;
  uint64_t created_ms = 0, expires_ms = 0;
  Bytes quorum_id;
  uint32_t epoch = 0;
  Bytes public_key;
  Bytes head;    // the encoded fields before sealed_priv
  Bytes sealed;  // sealed op_priv
};

Result<OpRecord> DecodeOp(std::span<const uint8_t> record) {
  OpRecord op;
  ByteReader r(record);
  uint8_t version = 0;
  std::span<const uint8_t> id, name, qid, pub;
  if (!r.ReadU8(&version) || version != kOpVersion || !r.ReadBytes(16, &id) || !r.ReadU32LengthPrefixed(&name) ||
      !r.ReadU64(&op.created_ms) || !r.ReadU64(&op.expires_ms) || !r.ReadBytes(kQuorumIdSize, &qid) ||
      !r.ReadU32(&op.epoch) || !r.ReadBytes(kX25519Size, &pub)) {
    return Status(Reason::kCorruptStore, "malformed quorum operation record");
  }
  op.id.assign(id.begin(), id.end());
  op.op.assign(name.begin(), name.end());
  op.quorum_id.assign(qid.begin(), qid.end());
  op.public_key.assign(pub.begin(), pub.end());
  op.head.assign(record.begin(), record.end() - r.remaining());
  op.sealed.assign(record.end() - r.remaining(), record.end());
  return op;
}

Result<SecretBytes> OpSealKey(const SecretBytes& token_key) {
  return crypto::HkdfSha256(token_key, "certvault quorum op v1", crypto::kAeadKeySize);
}

Bytes OpAad(storage::TokenId token, std::span<const uint8_t> head) {
  Bytes aad(Str("certvault quorum op v1").begin(), Str("certvault quorum op v1").end());
  ByteWriter<Bytes>(&aad).WriteU64(token);
  aad.insert(aad.end(), head.begin(), head.end());
  return aad;
}

Result<OpRecord> LoadOp(storage::Store& store, storage::TokenId token, const std::string& id) {
  Result<Bytes> record = store.GetMetaRow(internal::OpName(token, id));
  if (!record.ok()) return Status(Reason::kArgumentsBad, "no pending quorum operation " + id);
  return DecodeOp(*record);
}

Status Refuse(storage::Store& store, storage::TokenId token, const SecretBytes* tk, const std::string& role,
              const std::string& detail) {
  (void)RecordEvent(store, token, tk, role, "quorum_refuse", "PERMISSION_DENIED", detail);
  return PermissionDeniedError(detail);
}

// CheckOpen: the operation can still take approvals or run.
Status CheckOpen(storage::Store& store, storage::TokenId token, const OpRecord& op, const std::string& id) {
  if (static_cast<uint64_t>(internal::NowMs()) >= op.expires_ms)
    return PermissionDeniedError("operation " + id + " has expired");
  if (store.GetMetaRow(internal::OpName(token, id) + "/done").ok()) {
    return PermissionDeniedError("operation " + id + " has already run");
  }
  return OkStatus();
}

}  // namespace

Result<std::string> RequestOp(storage::Store& store, storage::TokenId token, const SecretBytes& token_key,
                              const std::string& op, int64_t ttl_seconds) {
  if (!IsGuardedOp(op)) return Status(Reason::kArgumentsBad, "not a quorum-guarded operation: " + op);
  if (ttl_seconds <= 0 || ttl_seconds > 7 * 86400) return Status(Reason::kArgumentsBad, "approval time out of range");
  CV_ASSIGN_OR_RETURN(std::optional<QuorumConfig> config, LoadQuorum(store, token, token_key));
  if (!config)
    return FailedPreconditionError("token " + std::to_string(token) + " has no quorum (certvault quorum init)");
  Bytes id(16);
  CV_RETURN_IF_ERROR(crypto::RandomBytes(id));
  CV_ASSIGN_OR_RETURN(X25519KeyPair pair, NewX25519KeyPair());
  Bytes record;
  ByteWriter<Bytes> w(&record);
  w.WriteU8(kOpVersion);
  w.WriteBytes(id);
  w.WriteU32LengthPrefixed(Str(op));
  const int64_t now = internal::NowMs();
  w.WriteU64(static_cast<uint64_t>(now));
  w.WriteU64(static_cast<uint64_t>(now + ttl_seconds * 1000));
  w.WriteBytes(config->quorum_id);
  w.WriteU32(config->epoch);
  w.WriteBytes(pair.public_key);
  CV_ASSIGN_OR_RETURN(SecretBytes seal, OpSealKey(token_key));
  CV_ASSIGN_OR_RETURN(SecureVector sealed,
                      crypto::AeadSeal(seal, OpAad(token, record), pair.private_key.Bytes(SecretAccess::Get())));
  record.insert(record.end(), sealed.begin(), sealed.end());
  const std::string hex = HexOf(id);
  CV_RETURN_IF_ERROR(store.RunExclusive([&]() -> Status {
    CV_RETURN_IF_ERROR(store.PutMetaRow(internal::OpName(token, hex), record));
    return RecordEvent(store, token, &token_key, "so", "quorum_request", "ok",
                       "op=" + hex + " action=" + op + " ttl=" + std::to_string(ttl_seconds) + "s");
  }));
  return hex;
}

Result<storage::TokenId> FindOpToken(storage::Store& store, const std::string& op_id) {
  if (op_id.size() != 32 || op_id.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Status(Reason::kArgumentsBad, "an operation id is 32 lower-case hex digits");
  }
  CV_ASSIGN_OR_RETURN(std::vector<storage::TokenRow> tokens, store.ListTokens());
  for (const storage::TokenRow& t : tokens) {
    if (store.GetMetaRow(internal::OpName(t.token_id, op_id)).ok()) return t.token_id;
  }
  return Status(Reason::kArgumentsBad, "no pending quorum operation " + op_id);
}

Result<Bytes> ApprovalTicket(storage::Store& store, const std::string& op_id) {
  CV_ASSIGN_OR_RETURN(storage::TokenId token, FindOpToken(store, op_id));
  CV_ASSIGN_OR_RETURN(OpRecord op, LoadOp(store, token, op_id));
  CV_ASSIGN_OR_RETURN(QuorumConfig config, internal::PeekQuorum(store, token));
  const std::string who = "op=" + op_id;
  Status open = CheckOpen(store, token, op, op_id);
  if (!open.ok()) return Refuse(store, token, nullptr, "custodian", who + ": " + std::string(open.message()));
  if (config.epoch != op.epoch) {
    return Refuse(store, token, nullptr, "custodian", who + ": requested before the quorum was re-shared");
  }
  Bytes ticket;
  ByteWriter<Bytes>(&ticket).WriteU64(token);
  ticket.insert(ticket.end(), op.head.begin(), op.head.end());  // public fields only, not the sealed key
  return ticket;
}

Result<Bytes> SealApproval(std::span<const uint8_t> ticket, Custodian& c) {
  ByteReader r(ticket);
  uint64_t token = 0;
  if (!r.ReadU64(&token)) return Status(Reason::kArgumentsBad, "malformed approval ticket");
  CV_ASSIGN_OR_RETURN(OpRecord op, DecodeOp(ticket.subspan(8)));
  CV_ASSIGN_OR_RETURN(CustodianShare share, c.LoadShare(op.quorum_id, op.epoch));
  const uint8_t x = share.share.x;
  Bytes aad = internal::ShareAad(kApprovalLabel, token, op.id, op.quorum_id, op.epoch, x);
  CV_ASSIGN_OR_RETURN(Bytes sealed,
                      SealToKey(op.public_key, kApprovalLabel, aad, share.share.y.Bytes(SecretAccess::Get())));
  Bytes approval;  // x || custodian key || sealed (reserve + push_back: GCC 12 misreads insert into a 1-byte vector)
  approval.reserve(1 + c.public_key().size() + sealed.size());
  approval.push_back(x);
  approval.insert(approval.end(), c.public_key().begin(), c.public_key().end());
  approval.insert(approval.end(), sealed.begin(), sealed.end());
  return approval;
}

Result<ApprovalState> StoreApproval(storage::Store& store, const std::string& op_id,
                                    std::span<const uint8_t> approval) {
  CV_ASSIGN_OR_RETURN(storage::TokenId token, FindOpToken(store, op_id));
  CV_ASSIGN_OR_RETURN(OpRecord op, LoadOp(store, token, op_id));
  CV_ASSIGN_OR_RETURN(QuorumConfig config, internal::PeekQuorum(store, token));
  if (approval.size() <= 1 + kX25519Size) return Status(Reason::kArgumentsBad, "malformed approval");
  const uint8_t x = approval[0];
  std::span<const uint8_t> pub = approval.subspan(1, kX25519Size);
  const bool known = x != 0 && x <= config.n && config.custodians.size() >= x;
  const std::string who = "op=" + op_id + " custodian=" + (known ? config.custodians[x - 1].name : "?");
  Status open = CheckOpen(store, token, op, op_id);
  if (!open.ok()) return Refuse(store, token, nullptr, "custodian", who + ": " + std::string(open.message()));
  if (config.epoch != op.epoch) {
    return Refuse(store, token, nullptr, "custodian", who + ": requested before the quorum was re-shared");
  }
  if (!known || !std::equal(pub.begin(), pub.end(), config.custodians[x - 1].public_key.begin(),
                            config.custodians[x - 1].public_key.end())) {
    return Refuse(store, token, nullptr, "custodian", who + ": not custodian " + std::to_string(x) + " of this quorum");
  }
  Bytes record;  // x || sealed, as AuthorizeOp reads it
  record.reserve(approval.size() - kX25519Size);
  record.push_back(x);
  record.insert(record.end(), approval.begin() + 1 + kX25519Size, approval.end());
  ApprovalState state{token, 0, config.k};
  CV_RETURN_IF_ERROR(store.RunExclusive([&]() -> Status {
    CV_RETURN_IF_ERROR(store.PutMetaRow(internal::OpName(token, op_id) + "/approval/" + std::to_string(x), record));
    CV_ASSIGN_OR_RETURN(auto rows, store.ListMetaRows(internal::OpName(token, op_id) + "/approval/"));
    state.approvals = rows.size();
    return RecordEvent(
        store, token, nullptr, "custodian", "quorum_approve", "ok",
        who + " x=" + std::to_string(x) + " (" + std::to_string(rows.size()) + " of " + std::to_string(config.k) + ")");
  }));
  return state;
}

Result<ApprovalState> ApproveOp(storage::Store& store, const std::string& op_id, Custodian& c) {
  CV_ASSIGN_OR_RETURN(Bytes ticket, ApprovalTicket(store, op_id));
  Result<Bytes> approval = SealApproval(ticket, c);
  if (!approval.ok()) {
    uint64_t token = 0;
    (void)ByteReader(ticket).ReadU64(&token);  // ApprovalTicket wrote it
    return Refuse(store, token, nullptr, "custodian",
                  "op=" + op_id + " custodian=" + c.name() + ": " + std::string(approval.status().message()));
  }
  CV_ASSIGN_OR_RETURN(ApprovalState state, StoreApproval(store, op_id, *approval));
  Result<OpRecord> op = DecodeOp(std::span<const uint8_t>(ticket).subspan(8));
  c.Record("custodian_approve", "ok", "op=" + op_id + " action=" + (op.ok() ? op->op : std::string("?")));
  return state;
}

namespace {

// Shares: the approvals of `op` that open with its key, at most one per x.
Result<std::vector<Share>> OpenApprovals(storage::Store& store, storage::TokenId token, const OpRecord& op,
                                         const SecretBytes& op_priv, const std::string& id) {
  CV_ASSIGN_OR_RETURN(auto rows, store.ListMetaRows(internal::OpName(token, id) + "/approval/"));
  std::vector<Share> shares;
  for (const auto& [key, value] : rows) {
    if (value.empty()) continue;
    const uint8_t x = value[0];
    Bytes aad = internal::ShareAad(kApprovalLabel, token, op.id, op.quorum_id, op.epoch, x);
    Result<SecretBytes> y = OpenWithKey(op_priv, kApprovalLabel, aad, std::span(value).subspan(1));
    if (!y.ok()) continue;  // not sealed to this operation: ignored
    if (std::any_of(shares.begin(), shares.end(), [&](const Share& s) { return s.x == x; })) continue;
    shares.push_back({x, std::move(*y)});
  }
  return shares;
}

}  // namespace

Result<SecretBytes> AuthorizeOp(storage::Store& store, storage::TokenId token, const SecretBytes& token_key,
                                const std::string& op_id, const std::string& op_name) {
  CV_ASSIGN_OR_RETURN(std::optional<QuorumConfig> config, LoadQuorum(store, token, token_key));
  if (!config) return FailedPreconditionError("the token has no quorum");
  Result<OpRecord> op = LoadOp(store, token, op_id);
  if (!op.ok()) return Refuse(store, token, &token_key, "so", "op=" + op_id + ": unknown operation");
  const std::string what = "op=" + op_id + " action=" + op_name;
  if (op->op != op_name) return Refuse(store, token, &token_key, "so", what + ": approved for " + op->op);
  if (op->quorum_id != config->quorum_id || op->epoch != config->epoch) {
    return Refuse(store, token, &token_key, "so", what + ": requested before the quorum was re-shared");
  }
  Status open = CheckOpen(store, token, *op, op_id);
  if (!open.ok()) return Refuse(store, token, &token_key, "so", what + ": " + std::string(open.message()));
  CV_ASSIGN_OR_RETURN(SecretBytes seal, OpSealKey(token_key));
  Result<SecureVector> priv = crypto::AeadOpen(seal, OpAad(token, op->head), op->sealed);
  if (!priv.ok()) return Refuse(store, token, &token_key, "so", what + ": the operation record does not verify");
  SecretBytes op_priv(std::move(*priv));
  CV_ASSIGN_OR_RETURN(std::vector<Share> shares, OpenApprovals(store, token, *op, op_priv, op_id));
  if (shares.size() < config->k) {
    return Refuse(store, token, &token_key, "so",
                  what + ": " + std::to_string(shares.size()) + " of " + std::to_string(config->k) + " approvals");
  }
  std::sort(shares.begin(), shares.end(), [](const Share& a, const Share& b) { return a.x < b.x; });
  shares.resize(config->k);
  CV_ASSIGN_OR_RETURN(SecretBytes secret, CombineShares(shares));
  CV_ASSIGN_OR_RETURN(Bytes verifier, internal::Verifier(secret, *config));
  if (!crypto::MacEqual(verifier, config->verifier)) {
    return Refuse(store, token, &token_key, "so", what + ": the approvals do not rebuild the quorum secret");
  }
  Bytes when;
  ByteWriter<Bytes>(&when).WriteU64(static_cast<uint64_t>(internal::NowMs()));
  CV_RETURN_IF_ERROR(store.RunExclusive([&]() -> Status {
    if (store.GetMetaRow(internal::OpName(token, op_id) + "/done").ok()) return PermissionDeniedError("already ran");
    CV_RETURN_IF_ERROR(store.PutMetaRow(internal::OpName(token, op_id) + "/done", when));
    return RecordEvent(store, token, &token_key, "so", "quorum_complete", "ok", what);
  }));
  return secret;
}

namespace {
Status AuthorizeForCore(storage::Store& store, storage::TokenId token, const SecretBytes& token_key,
                        const std::string& op_id, const std::string& op) {
  // The secret has served its one operation: it is wiped when this returns.
  return AuthorizeOp(store, token, token_key, op_id, op).status();
}
}  // namespace

void InstallQuorumAuthorizer() { core::SetQuorumAuthorizer(&AuthorizeForCore); }

}  // namespace certvault::quorum
