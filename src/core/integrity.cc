// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/core/integrity.h"

#include <string>

#include "src/base/byte_reader.h"
#include "src/base/status_macros.h"
#include "src/storage/record.h"

namespace certvault::core {
namespace {

constexpr std::string_view kKeyInfo = "certvault integrity key v1";
constexpr std::string_view kRecordLabel = "certvault object v2";
constexpr std::string_view kElementLabel = "certvault set element v1";
constexpr std::string_view kStateLabel = "certvault token v1";
constexpr uint8_t kStateMagic[3] = {'C', 'V', 'T'};
constexpr uint8_t kStateVersion = 1;
constexpr size_t kStateSize = 3 + 1 + 2 + kSetBuckets * crypto::kMacSize + crypto::kMacSize;

std::span<const uint8_t> Str(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

Bytes Ids(storage::TokenId token, storage::ObjectId object, uint64_t version) {
  Bytes out;
  ByteWriter<Bytes> w(&out);
  w.WriteU64(token);
  w.WriteU64(object);
  w.WriteU64(version);
  return out;
}

// TokenFields: the token row's fields in a fixed, unambiguous encoding.
Bytes TokenFields(const storage::TokenRow& row) {
  Bytes out;
  ByteWriter<Bytes> w(&out);
  w.WriteU64(row.token_id);
  w.WriteU32LengthPrefixed(Str(row.label));
  w.WriteU32LengthPrefixed(Str(row.serial));
  w.WriteU64(row.flags);
  w.WriteU32(row.capacity);
  w.WriteU32LengthPrefixed(row.policy);
  w.WriteU64(static_cast<uint64_t>(row.created_unix));
  return out;
}

Status TokenFailed(storage::TokenId token, std::string_view why) {
  return Status(Reason::kCorruptStore, "token " + std::to_string(token) + " failed its integrity check: " +
                                           std::string(why) + " (the vault file was changed outside certvault)");
}

Bytes BucketBytes(const TokenState& state) {
  Bytes out;
  ByteWriter<Bytes> w(&out);
  w.WriteU16(static_cast<uint16_t>(kSetBuckets));
  for (const crypto::MacTag& b : state.buckets) w.WriteBytes(b);
  return out;
}

}  // namespace

Result<SecretBytes> DeriveIntegrityKey(const SecretBytes& token_key) {
  return crypto::HkdfSha256(token_key, kKeyInfo, crypto::kMacSize);
}

Result<crypto::MacTag> RecordMac(const SecretBytes& ik, storage::TokenId token, storage::ObjectId object,
                                 uint64_t version, std::span<const uint8_t> body) {
  Bytes ids = Ids(token, object, version);
  return crypto::HmacSha256(ik, {Str(kRecordLabel), ids, body});
}

Status TokenState::Toggle(const crypto::HmacKey& ik, storage::TokenId token, storage::ObjectId object,
                          uint64_t version, std::span<const uint8_t> record_mac) {
  if (record_mac.empty()) return OkStatus();
  Bytes ids = Ids(token, object, version);
  CV_ASSIGN_OR_RETURN(crypto::MacTag element, ik.Compute({Str(kElementLabel), ids, record_mac}));
  crypto::MacTag& bucket = buckets[BucketOf(object)];
  for (size_t i = 0; i < bucket.size(); ++i) bucket[i] ^= element[i];
  return OkStatus();
}

Status TokenState::Toggle(const SecretBytes& ik, storage::TokenId token, storage::ObjectId object, uint64_t version,
                          std::span<const uint8_t> record_mac) {
  CV_ASSIGN_OR_RETURN(crypto::HmacKey keyed, crypto::HmacKey::Create(ik));
  return Toggle(keyed, token, object, version, record_mac);
}

Status TokenState::ToggleRow(const crypto::HmacKey& ik, const storage::ObjectRow& row) {
  CV_ASSIGN_OR_RETURN(storage::RecordHeader header, storage::ParseRecordHeader(row.record));
  return Toggle(ik, row.token_id, row.object_id, row.version, header.mac);
}

Status TokenState::ToggleRow(const SecretBytes& ik, const storage::ObjectRow& row) {
  CV_ASSIGN_OR_RETURN(crypto::HmacKey keyed, crypto::HmacKey::Create(ik));
  return ToggleRow(keyed, row);
}

DamagedBuckets TokenState::Diff(const TokenState& other) const {
  DamagedBuckets out;
  for (size_t b = 0; b < kSetBuckets; ++b) {
    if (!crypto::MacEqual(buckets[b], other.buckets[b])) out.set(b);
  }
  return out;
}

Result<Bytes> SealTokenState(const SecretBytes& ik, const storage::TokenRow& row, const TokenState& state) {
  Bytes fields = TokenFields(row);
  Bytes buckets = BucketBytes(state);
  CV_ASSIGN_OR_RETURN(crypto::MacTag mac, crypto::HmacSha256(ik, {Str(kStateLabel), fields, buckets}));
  Bytes out(std::begin(kStateMagic), std::end(kStateMagic));
  ByteWriter<Bytes> w(&out);
  w.WriteU8(kStateVersion);
  w.WriteBytes(buckets);
  w.WriteBytes(mac);
  return out;
}

Result<TokenState> OpenTokenState(const SecretBytes& ik, const storage::TokenRow& row) {
  if (row.integrity.empty()) return TokenFailed(row.token_id, "its integrity state is missing");
  ByteReader in(row.integrity);
  std::span<const uint8_t> magic, buckets, mac;
  uint8_t version = 0;
  uint16_t n = 0;
  if (row.integrity.size() != kStateSize || !in.ReadBytes(3, &magic) || !in.ReadU8(&version) ||
      !std::equal(magic.begin(), magic.end(), std::begin(kStateMagic)) || version != kStateVersion ||
      !in.ReadU16(&n) || n != kSetBuckets) {
    return TokenFailed(row.token_id, "its integrity state is malformed");
  }
  if (!in.ReadBytes(kSetBuckets * crypto::kMacSize, &buckets) || !in.ReadBytes(crypto::kMacSize, &mac)) {
    return TokenFailed(row.token_id, "its integrity state is truncated");
  }
  Bytes fields = TokenFields(row);
  std::span<const uint8_t> covered = std::span<const uint8_t>(row.integrity).subspan(4, 2 + buckets.size());
  CV_ASSIGN_OR_RETURN(crypto::MacTag want, crypto::HmacSha256(ik, {Str(kStateLabel), fields, covered}));
  if (!crypto::MacEqual(want, mac)) return TokenFailed(row.token_id, "the token record or its object set was edited");
  TokenState state;
  for (size_t b = 0; b < kSetBuckets; ++b) {
    std::copy_n(buckets.begin() + static_cast<std::ptrdiff_t>(b * crypto::kMacSize), crypto::kMacSize,
                state.buckets[b].begin());
  }
  return state;
}

Status ObjectFailed(storage::ObjectId id, std::span<const uint8_t> label, std::string_view why) {
  std::string name = "object " + std::to_string(id);
  if (!label.empty()) {
    // The label is untrusted here: printable ASCII only, bounded.
    std::string shown;
    for (size_t i = 0; i < label.size() && i < 64; ++i) shown += (label[i] >= 0x20 && label[i] < 0x7f) ? char(label[i]) : '?';
    name += " (label \"" + shown + "\")";
  }
  return Status(Reason::kCorruptStore, name + " failed its integrity check: " + std::string(why) +
                                           "; it is not used (the vault file was changed outside certvault)");
}

}  // namespace certvault::core
