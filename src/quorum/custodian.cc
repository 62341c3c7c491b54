// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/quorum/custodian.h"

#include "src/base/byte_reader.h"
#include "src/base/status_macros.h"
#include "src/core/embedded_backend.h"
#include "src/crypto/aead.h"
#include "src/crypto/mac.h"
#include "src/quorum/events.h"
#include "src/quorum/x25519_seal.h"

namespace certvault::quorum {
namespace {

std::string KeyName(storage::TokenId token) { return "custodian/" + std::to_string(token) + "/key"; }

std::string Hex(std::span<const uint8_t> b) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (uint8_t c : b) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string SharePrefix(storage::TokenId token, std::span<const uint8_t> quorum_id) {
  return "custodian/" + std::to_string(token) + "/share/" + Hex(quorum_id) + "/";
}

Bytes ShareAad(storage::TokenId token, std::span<const uint8_t> quorum_id, uint32_t epoch, uint8_t x) {
  Bytes aad;
  ByteWriter<Bytes> w(&aad);
  w.WriteBytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>("certvault custodian share v1"), 28));
  w.WriteU64(token);
  w.WriteBytes(quorum_id);
  w.WriteU32(epoch);
  w.WriteU8(x);
  return aad;
}

}  // namespace

Result<std::unique_ptr<Custodian>> Custodian::Open(const std::string& vault_dir, const std::string& config_path,
                                                   const SecretBytes& pin) {
  std::unique_ptr<Custodian> c(new Custodian());
  BackendOptions options;
  options.vault_dir = vault_dir;
  options.config_path = config_path;
  CV_ASSIGN_OR_RETURN(c->backend_, OpenEmbeddedBackend(options));
  auto* embedded = dynamic_cast<core::EmbeddedBackend*>(c->backend_.get());
  if (embedded == nullptr) return InternalError("a custodian is opened in embedded mode");
  Result<storage::Store*> store = embedded->MaintenanceStore();
  if (!store.ok()) return Status(Reason::kTokenNotPresent, "no custodian token in " + vault_dir);
  c->store_ = *store;
  CV_ASSIGN_OR_RETURN(std::vector<storage::TokenRow> tokens, c->store_->ListTokens());
  if (tokens.empty()) return Status(Reason::kTokenNotPresent, "no custodian token in " + vault_dir);
  c->token_ = tokens[0].token_id;
  c->name_ = tokens[0].label + " (serial " + tokens[0].serial + ")";
  CV_ASSIGN_OR_RETURN(c->token_key_, embedded->UnlockTokenKey(c->token_, UserType::kUser, pin));
  CV_RETURN_IF_ERROR(c->LoadOrCreateKey());
  return c;
}

Result<SecretBytes> Custodian::SealKey() const {
  return crypto::HkdfSha256(token_key_, "certvault custodian seal v1", crypto::kAeadKeySize);
}

// custodian/<token>/key = pub[32] | AES-256-GCM(seal key, priv,
//   AAD = "certvault custodian key v1" | token u64 | pub)
Status Custodian::LoadOrCreateKey() {
  CV_ASSIGN_OR_RETURN(SecretBytes seal, SealKey());
  Result<Bytes> stored = store_->GetMetaRow(KeyName(token_));
  Bytes aad(reinterpret_cast<const uint8_t*>("certvault custodian key v1"),
            reinterpret_cast<const uint8_t*>("certvault custodian key v1") + 26);
  ByteWriter<Bytes>(&aad).WriteU64(token_);
  if (stored.ok()) {
    if (stored->size() < kX25519Size) return Status(Reason::kCorruptStore, "custodian key record too short");
    public_key_.assign(stored->begin(), stored->begin() + kX25519Size);
    aad.insert(aad.end(), public_key_.begin(), public_key_.end());
    Result<SecureVector> priv = crypto::AeadOpen(seal, aad, std::span(*stored).subspan(kX25519Size));
    if (!priv.ok()) return Status(Reason::kCorruptStore, "the custodian key does not open with this token's key");
    private_key_ = SecretBytes(std::move(*priv));
    return OkStatus();
  }
  if (stored.status().code() != StatusCode::kNotFound) return stored.status();
  CV_ASSIGN_OR_RETURN(X25519KeyPair pair, NewX25519KeyPair());
  aad.insert(aad.end(), pair.public_key.begin(), pair.public_key.end());
  CV_ASSIGN_OR_RETURN(SecureVector sealed, crypto::AeadSeal(seal, aad, pair.private_key.Bytes(SecretAccess::Get())));
  Bytes record = pair.public_key;
  record.insert(record.end(), sealed.begin(), sealed.end());
  CV_RETURN_IF_ERROR(store_->PutMetaRow(KeyName(token_), record));
  public_key_ = pair.public_key;
  private_key_ = std::move(pair.private_key);
  return OkStatus();
}

// share record = epoch u32 | x u8 | AES-256-GCM(seal key, y, AAD = ShareAad)
Status Custodian::StoreShare(const CustodianShare& share) {
  CV_ASSIGN_OR_RETURN(SecretBytes seal, SealKey());
  Bytes aad = ShareAad(token_, share.quorum_id, share.epoch, share.share.x);
  CV_ASSIGN_OR_RETURN(SecureVector sealed, crypto::AeadSeal(seal, aad, share.share.y.Bytes(SecretAccess::Get())));
  Bytes record;
  ByteWriter<Bytes> w(&record);
  w.WriteU32(share.epoch);
  w.WriteU8(share.share.x);
  w.WriteBytes(sealed);
  return store_->PutMetaRow(SharePrefix(token_, share.quorum_id) + std::to_string(share.epoch), record);
}

Result<CustodianShare> Custodian::LoadShare(std::span<const uint8_t> quorum_id, uint32_t epoch) {
  const std::string prefix = SharePrefix(token_, quorum_id);
  Result<Bytes> found = store_->GetMetaRow(prefix + std::to_string(epoch));
  if (!found.ok()) {
    CV_ASSIGN_OR_RETURN(auto held, store_->ListMetaRows(prefix));
    if (held.empty()) return NotFoundError("not a custodian of this quorum");
    std::string epochs;
    for (const auto& [key, value] : held) epochs += (epochs.empty() ? "" : ", ") + key.substr(prefix.size());
    return NotFoundError("the share is from epoch " + epochs + ", the quorum is at epoch " + std::to_string(epoch) +
                         " (re-shared since)");
  }
  const Bytes& record = *found;
  CustodianShare out;
  ByteReader r(record);
  if (!r.ReadU32(&out.epoch) || !r.ReadU8(&out.share.x) || out.epoch != epoch) {
    return Status(Reason::kCorruptStore, "malformed share record");
  }
  std::span<const uint8_t> sealed;
  if (!r.ReadBytes(r.remaining(), &sealed)) return Status(Reason::kCorruptStore, "share record too short");
  CV_ASSIGN_OR_RETURN(SecretBytes seal, SealKey());
  Result<SecureVector> y = crypto::AeadOpen(seal, ShareAad(token_, quorum_id, out.epoch, out.share.x), sealed);
  if (!y.ok()) return Status(Reason::kCorruptStore, "the share does not open with this custodian's key");
  out.quorum_id.assign(quorum_id.begin(), quorum_id.end());
  out.share.y = SecretBytes(std::move(*y));
  return out;
}

Result<SecretBytes> Custodian::Unseal(std::string_view label, std::span<const uint8_t> aad,
                                      std::span<const uint8_t> sealed) const {
  return OpenWithKey(private_key_, label, aad, sealed);
}

void Custodian::Record(const std::string& action, const std::string& result, const std::string& detail) {
  (void)RecordEvent(*store_, token_, &token_key_, "user", action, result, detail);
}

}  // namespace certvault::quorum
