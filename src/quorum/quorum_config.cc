// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The quorum config record and quorum init / re-sharing.
#include <chrono>
#include <set>

#include "src/base/status_macros.h"
#include "src/core/auth.h"
#include "src/core/quorum_flag.h"
#include "src/crypto/aead.h"
#include "src/crypto/mac.h"
#include "src/crypto/random.h"
#include "src/quorum/events.h"
#include "src/quorum/quorum.h"
#include "src/quorum/quorum_internal.h"
#include "src/quorum/shamir.h"
#include "src/quorum/x25519_seal.h"

namespace certvault::quorum {
namespace internal {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<Bytes> Verifier(const SecretBytes& secret, const QuorumConfig& config) {
  Bytes epoch;
  ByteWriter<Bytes>(&epoch).WriteU32(config.epoch);
  CV_ASSIGN_OR_RETURN(crypto::MacTag tag,
                      crypto::HmacSha256(secret, {Str("certvault quorum verifier v1"), config.quorum_id, epoch}));
  return Bytes(tag.begin(), tag.end());
}

Bytes ShareAad(std::string_view label, storage::TokenId token, std::span<const uint8_t> id,
               std::span<const uint8_t> quorum_id, uint32_t epoch, uint8_t x) {
  Bytes aad;
  ByteWriter<Bytes> w(&aad);
  w.WriteU32LengthPrefixed(Str(label));
  w.WriteU64(token);
  w.WriteU32LengthPrefixed(id);
  w.WriteBytes(quorum_id);
  w.WriteU32(epoch);
  w.WriteU8(x);
  return aad;
}

}  // namespace internal

namespace {

using internal::Str;
constexpr uint8_t kConfigVersion = 1;

// body = version u8 | quorum_id[16] | epoch u32 | k u8 | n u8
//        | n x (x u8 | pub[32] | name u32-prefixed) | verifier[32]
Bytes EncodeBody(const QuorumConfig& c) {
  Bytes out;
  ByteWriter<Bytes> w(&out);
  w.WriteU8(kConfigVersion);
  w.WriteBytes(c.quorum_id);
  w.WriteU32(c.epoch);
  w.WriteU8(c.k);
  w.WriteU8(c.n);
  for (const CustodianEntry& e : c.custodians) {
    w.WriteU8(e.x);
    w.WriteBytes(e.public_key);
    w.WriteU32LengthPrefixed(Str(e.name));
  }
  w.WriteBytes(c.verifier);
  return out;
}

Result<QuorumConfig> DecodeBody(ByteReader& r) {
  QuorumConfig c;
  uint8_t version = 0;
  std::span<const uint8_t> id, verifier;
  if (!r.ReadU8(&version) || version != kConfigVersion || !r.ReadBytes(kQuorumIdSize, &id) || !r.ReadU32(&c.epoch) ||
      !r.ReadU8(&c.k) || !r.ReadU8(&c.n) || c.k < 2 || c.k > c.n) {
    return Status(Reason::kCorruptStore, "malformed quorum record");
  }
  c.quorum_id.assign(id.begin(), id.end());
  for (unsigned i = 0; i < c.n; ++i) {
    CustodianEntry e;
    std::span<const uint8_t> pub, name;
    if (!r.ReadU8(&e.x) || e.x != i + 1 || !r.ReadBytes(kX25519Size, &pub) || !r.ReadU32LengthPrefixed(&name)) {
      return Status(Reason::kCorruptStore, "malformed quorum record");
    }
    e.public_key.assign(pub.begin(), pub.end());
    e.name.assign(name.begin(), name.end());
    c.custodians.push_back(std::move(e));
  }
  if (!r.ReadBytes(crypto::kMacSize, &verifier)) return Status(Reason::kCorruptStore, "malformed quorum record");
  c.verifier.assign(verifier.begin(), verifier.end());
  return c;
}

Result<crypto::MacTag> ConfigMac(const SecretBytes& token_key, storage::TokenId token, std::span<const uint8_t> body) {
  CV_ASSIGN_OR_RETURN(SecretBytes key, crypto::HkdfSha256(token_key, "certvault quorum config v1", crypto::kMacSize));
  Bytes tid;
  ByteWriter<Bytes>(&tid).WriteU64(token);
  return crypto::HmacSha256(key, {Str("certvault quorum config v1"), tid, body});
}

Status SaveConfig(storage::Store& store, storage::TokenId token, const SecretBytes& token_key, const QuorumConfig& c) {
  Bytes record = EncodeBody(c);
  CV_ASSIGN_OR_RETURN(crypto::MacTag mac, ConfigMac(token_key, token, record));
  record.insert(record.end(), mac.begin(), mac.end());
  return store.PutMetaRow(internal::ConfigName(token), record);
}

}  // namespace

bool IsGuardedOp(const std::string& op) {
  static const std::set<std::string> kOps = {"backup", "restore", "zeroize", "so-pin-reset", "create-key",
                                             "destroy-key", "policy", "audit-config", "reshare"};
  return kOps.count(op) != 0;
}

std::string HexOf(std::span<const uint8_t> b) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (uint8_t c : b) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

Result<QuorumConfig> internal::PeekQuorum(storage::Store& store, storage::TokenId token) {
  CV_ASSIGN_OR_RETURN(Bytes record, store.GetMetaRow(ConfigName(token)));
  ByteReader r(record);
  CV_ASSIGN_OR_RETURN(QuorumConfig c, DecodeBody(r));
  if (r.remaining() != crypto::kMacSize) return Status(Reason::kCorruptStore, "malformed quorum record");
  return c;
}

Result<std::optional<QuorumConfig>> LoadQuorum(storage::Store& store, storage::TokenId token,
                                               const SecretBytes& token_key) {
  Result<Bytes> record = store.GetMetaRow(internal::ConfigName(token));
  if (!record.ok() && record.status().code() == StatusCode::kNotFound) {
    // No record: the token never had a quorum, or its record was deleted,
    // which its integrity-protected row tells (core/quorum_flag.h).
    CV_ASSIGN_OR_RETURN(bool flagged, core::TokenHasQuorum(store, token, token_key));
    if (flagged) return core::QuorumRecordMissing(token, "record");
    return std::optional<QuorumConfig>();
  }
  CV_RETURN_IF_ERROR(record.status());
  if (record->size() < crypto::kMacSize) return Status(Reason::kCorruptStore, "malformed quorum record");
  std::span<const uint8_t> body = std::span(*record).first(record->size() - crypto::kMacSize);
  CV_ASSIGN_OR_RETURN(crypto::MacTag mac, ConfigMac(token_key, token, body));
  if (!crypto::MacEqual(mac, std::span(*record).last(crypto::kMacSize))) {
    return Status(Reason::kCorruptStore, "the quorum record of token " + std::to_string(token) + " does not verify");
  }
  ByteReader r(body);
  CV_ASSIGN_OR_RETURN(QuorumConfig c, DecodeBody(r));
  return std::optional<QuorumConfig>(std::move(c));
}

Result<QuorumConfig> InitQuorum(storage::Store& store, storage::TokenId token, const SecretBytes& token_key, uint8_t k,
                                const std::vector<Custodian*>& custodians, bool resharing) {
  if (custodians.size() > 255) return Status(Reason::kArgumentsBad, "at most 255 custodians");
  const uint8_t n = static_cast<uint8_t>(custodians.size());
  std::set<Bytes> distinct;
  for (Custodian* c : custodians) distinct.insert(c->public_key());
  if (distinct.size() != custodians.size()) return Status(Reason::kArgumentsBad, "a custodian is named twice");
  CV_ASSIGN_OR_RETURN(std::optional<QuorumConfig> old, LoadQuorum(store, token, token_key));
  if (old && !resharing) return AlreadyExistsError("the token already has a quorum (re-share with --op of 'reshare')");
  QuorumConfig c;
  c.k = k;
  c.n = n;
  c.quorum_id = Bytes(kQuorumIdSize);
  if (old) {
    c.quorum_id = old->quorum_id;
    c.epoch = old->epoch + 1;
  } else {
    CV_RETURN_IF_ERROR(crypto::RandomBytes(c.quorum_id));
  }
  CV_ASSIGN_OR_RETURN(SecretBytes secret, crypto::NewRandomSecret(32));
  CV_ASSIGN_OR_RETURN(std::vector<Share> shares, SplitSecret(secret, k, n));
  CV_ASSIGN_OR_RETURN(c.verifier, internal::Verifier(secret, c));
  for (uint8_t i = 0; i < n; ++i) {
    c.custodians.push_back({shares[i].x, custodians[i]->public_key(), custodians[i]->name()});
    CV_RETURN_IF_ERROR(custodians[i]->StoreShare({c.quorum_id, c.epoch, std::move(shares[i])}));
    custodians[i]->Record("custodian_share", "ok", "quorum=" + HexOf(c.quorum_id) + " epoch=" + std::to_string(c.epoch));
  }
  std::string detail = std::to_string(k) + "-of-" + std::to_string(n) + " quorum=" + HexOf(c.quorum_id) +
                       " epoch=" + std::to_string(c.epoch);
  CV_RETURN_IF_ERROR(store.RunExclusive([&]() -> Status {
    CV_RETURN_IF_ERROR(SaveConfig(store, token, token_key, c));
    // From now on a missing record is detected (core/quorum_flag.h).
    CV_RETURN_IF_ERROR(core::MarkTokenHasQuorum(store, token, token_key));
    return RecordEvent(store, token, &token_key, "so", old ? "quorum_reshare" : "quorum_init", "ok", detail);
  }));
  return c;
}

Status ResetSoPin(storage::Store& store, storage::TokenId token, const SecretBytes& token_key,
                  const SecretBytes& new_so_pin) {
  if (new_so_pin.size() < 8) return Status(Reason::kPinLenRange, "the new SO PIN must have at least 8 characters");
  CV_ASSIGN_OR_RETURN(storage::AuthRow old, store.GetAuth(token, storage::Role::kSo));
  CV_ASSIGN_OR_RETURN(core::PinKdf kdf, core::DecodeKdf(old.kdf));
  core::KdfConfig cost{kdf.params.m_cost_kib, kdf.params.t_cost, kdf.params.parallelism};
  CV_ASSIGN_OR_RETURN(storage::AuthRow row,
                      core::SealTokenKey(token, storage::Role::kSo, new_so_pin, token_key, cost, old.max_tries));
  return store.RunExclusive([&]() -> Status {
    CV_RETURN_IF_ERROR(store.PutAuth(row));
    return RecordEvent(store, token, &token_key, "user", "so_pin_reset", "ok", "approved by the quorum");
  });
}

}  // namespace certvault::quorum
