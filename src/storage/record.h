// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Record: the stored form of one object's attributes (docs/formats/record.md).
//
//   record v2 = magic "CVR" | version u8 (=2) | mac_len u8 (0 or 32) | mac | body
//   record v1 = magic "CVR" | version u8 (=1) | body              (read only)
//   body      = count u32 | entry*count
//   entry     = type u64 | flags u8 | length u32 | value[length]
//   flags     = bit0 SEALED (value = nonce[12] | ciphertext | tag[16],
//               AES-256-GCM under the token key, AAD = object id u64 | type u64)
//
// The MAC (docs/formats/integrity.md) is computed and checked by the core;
// the codec only carries it. Big-endian integers. Types strictly increasing (no duplicates). Lengths are
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

inline constexpr size_t kRecordMacSize = 32;

struct RecordEntry {
  uint64_t type = 0;
  bool sealed = false;
  SecureVector value;  // sealed: nonce|ct|tag; else the plain value
};

// RecordHeader: where the parts of a record are, found without parsing its
// entries (views into the record's bytes).
struct RecordHeader {
  uint8_t version = 0;            // 1 or 2
  std::span<const uint8_t> mac;   // v2: empty (unauthenticated) or kRecordMacSize bytes; v1: empty
  std::span<const uint8_t> body;  // count | entries: the bytes the MAC covers
};

// EncodeRecordBody: `count | entries`. REQUIRES: types strictly increasing,
// at most kMaxEntries entries, each value ≤ kMaxValueLength (else
// DecodeRecord rejects the output). The output is ordinary (unwiped) Bytes:
// secret values must be sealed before they are encoded.
Bytes EncodeRecordBody(const std::vector<RecordEntry>& entries);
// EncodeRecord: the version-2 record of `body` (from EncodeRecordBody) with
// `mac`. REQUIRES mac.size() is 0 (unauthenticated) or kRecordMacSize.
Bytes EncodeRecord(std::span<const uint8_t> mac, std::span<const uint8_t> body);
// EncodeRecordV1: the legacy version-1 encoding, which this build only reads.
// For tests (upgrade paths) and the fuzzer's canonical-encoding check.
Bytes EncodeRecordV1(const std::vector<RecordEntry>& entries);

// ParseRecordHeader: magic, version and MAC of a record; the body is not
// parsed. kDataLoss/kCorruptStore on a bad magic, version or MAC length.
Result<RecordHeader> ParseRecordHeader(std::span<const uint8_t> bytes);
// DecodeRecord: the entries of a version-1 or version-2 record (the MAC is
// not checked here: see ParseRecordHeader); kDataLoss/kCorruptStore on any
// violation of the format above (docs/formats/record.md). Never reads out of
// bounds.
Result<std::vector<RecordEntry>> DecodeRecord(std::span<const uint8_t> bytes);

}  // namespace certvault::storage

#endif  // CERTVAULT_STORAGE_RECORD_H_
