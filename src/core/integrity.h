// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Integrity of a token's stored state under its token key
// (docs/formats/integrity.md). Everything here is keyed with the integrity
// key IK = HKDF-SHA-256(TK, "certvault integrity key v1"), which exists only
// while a user or the SO is logged in.
//
//   record MAC  = HMAC(IK, "certvault object v2" | token u64 | object u64 | version u64 | record body)
//   set element = HMAC(IK, "certvault set element v1" | token u64 | object u64 | version u64 | record MAC)
//   bucket[b]   = XOR of the set elements of the token's authenticated objects with object_id % 64 == b
//   token state = "CVT" | version u8 (=1) | n u16 (=64) | bucket[n] | state MAC
//   state MAC   = HMAC(IK, "certvault token v1" | token fields | n | bucket[n])
//
// The record MAC stops edits of an object (its attributes, its indexed
// columns, which must agree with its attributes, and moving it to another id
// or token). The token state stops deleting a row, bringing back an older
// copy of it, or adding one: each changes its bucket, and the elements are
// PRF outputs that are never stored, so old rows cannot be recombined into a
// matching value. The token fields (label, serial, flags, capacity, policy,
// creation time) are covered by the state MAC.
#ifndef CERTVAULT_CORE_INTEGRITY_H_
#define CERTVAULT_CORE_INTEGRITY_H_

#include <array>
#include <bitset>
#include <cstdint>
#include <span>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/crypto/mac.h"
#include "src/storage/store.h"

namespace certvault::core {

inline constexpr size_t kSetBuckets = 64;
using DamagedBuckets = std::bitset<kSetBuckets>;

inline size_t BucketOf(storage::ObjectId id) { return static_cast<size_t>(id % kSetBuckets); }

// DeriveIntegrityKey: IK from the token key TK. kArgumentsBad if TK is empty.
Result<SecretBytes> DeriveIntegrityKey(const SecretBytes& token_key);

// RecordMac: the MAC of a record `body` (storage::RecordHeader::body) stored
// as object `object` of `token` at `version`.
Result<crypto::MacTag> RecordMac(const SecretBytes& ik, storage::TokenId token, storage::ObjectId object,
                                 uint64_t version, std::span<const uint8_t> body);

// TokenState: the per-bucket XOR of the set elements of a token's
// authenticated objects.
struct TokenState {
  std::array<crypto::MacTag, kSetBuckets> buckets{};

  // Toggle: adds (or, applied again, removes) the set element of the object
  // stored with (`object`, `version`, `record_mac`). No-op for an empty MAC
  // (an unauthenticated object is not in the set).
  // The crypto::HmacKey forms are for many calls under one key (the
  // login-time scan); both give the same result.
  Status Toggle(const crypto::HmacKey& ik, storage::TokenId token, storage::ObjectId object, uint64_t version,
                std::span<const uint8_t> record_mac);
  Status Toggle(const SecretBytes& ik, storage::TokenId token, storage::ObjectId object, uint64_t version,
                std::span<const uint8_t> record_mac);
  // ToggleRow: Toggle for a stored row (its MAC is read from the record
  // header). kCorruptStore if the record header is malformed.
  Status ToggleRow(const crypto::HmacKey& ik, const storage::ObjectRow& row);
  Status ToggleRow(const SecretBytes& ik, const storage::ObjectRow& row);
  // Diff: the buckets in which this and `other` differ.
  DamagedBuckets Diff(const TokenState& other) const;
};

// SealTokenState: the encoded state of token `row`, MACed together with the
// row's fields (not row.integrity).
Result<Bytes> SealTokenState(const SecretBytes& ik, const storage::TokenRow& row, const TokenState& state);
// OpenTokenState: verifies and decodes row.integrity. kCorruptStore naming
// the token if it is empty, malformed, or its MAC fails (a token field or the
// state was changed outside certvault).
Result<TokenState> OpenTokenState(const SecretBytes& ik, const storage::TokenRow& row);

// ObjectFailed: the kDataLoss/kCorruptStore status for object `id` (its
// stored label, if any, helps the operator find it).
Status ObjectFailed(storage::ObjectId id, std::span<const uint8_t> label, std::string_view why);

}  // namespace certvault::core

#endif  // CERTVAULT_CORE_INTEGRITY_H_
