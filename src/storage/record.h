// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Record: the stored form of one object's attributes (docs/formats/record.md).
//
//   record   = magic "CVR" | version u8 (=1) | count u32 | entry*count
//   entry    = type u64 | flags u8 | length u32 | value[length]
//   flags    = bit0 SEALED (value = nonce[12] | ciphertext | tag[16],
//              AES-256-GCM under the token key, AAD = object id u64 | type u64)
//
// Big-endian integers. Types strictly increasing (no duplicates). Lengths are
// bounded (kMaxValueLength, kMaxEntries). DecodeRecord rejects anything else
// with kDataLoss/Reason::kCorruptStore, never reads out of bounds, and is a
// fuzz target (fuzz/record_fuzzer.cc).
#ifndef CERTVAULT_STORAGE_RECORD_H_
#define CERTVAULT_STORAGE_RECORD_H_

#include <cstdint>
#include <span>
#include <vector>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/secure_allocator.h"

namespace certvault::storage {

inline constexpr size_t kMaxValueLength = 1 << 20;  // 1 MiB per attribute
inline constexpr size_t kMaxEntries = 4096;

struct RecordEntry {
  uint64_t type = 0;
  bool sealed = false;
  SecureVector value;  // sealed: nonce|ct|tag; else the plain value
};

// EncodeRecord: the version-1 encoding of `entries`. REQUIRES: types strictly
// increasing, at most kMaxEntries entries, each value ≤ kMaxValueLength (else
// DecodeRecord rejects the output). The output is ordinary (unwiped) Bytes:
// secret values must be sealed before they are encoded.
Bytes EncodeRecord(const std::vector<RecordEntry>& entries);
// DecodeRecord: parses a record; kDataLoss/kCorruptStore on any violation of
// the format above (docs/formats/record.md). Never reads out of bounds.
Result<std::vector<RecordEntry>> DecodeRecord(std::span<const uint8_t> bytes);

}  // namespace certvault::storage

#endif  // CERTVAULT_STORAGE_RECORD_H_
