// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The hash chain of a token's event log and the bytes a checkpoint signs
// (docs/formats/event-log.md). Pure functions over storage rows.
#ifndef CERTVAULT_AUDIT_EVENT_CHAIN_H_
#define CERTVAULT_AUDIT_EVENT_CHAIN_H_

#include <span>
#include <string>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/storage/store.h"

namespace certvault::audit {

inline constexpr size_t kHashSize = 32;

// Sha256: SHA-256 of `data`, fetched from certvault's library context.
// kFunctionFailed if OpenSSL fails.
Result<Bytes> Sha256(std::span<const uint8_t> data);

// GenesisHash: the prev_hash of a token's record 1:
// SHA-256("certvault event genesis v1" | token_id u64).
Result<Bytes> GenesisHash(storage::TokenId token);

// EventHash: SHA-256 over "certvault event v1" and every field of `row`
// except `hash` (prev_hash included), each length-prefixed; see the format
// page for the exact encoding.
Result<Bytes> EventHash(const storage::EventRow& row);

// CheckpointMessage: what the audit key signs for `cp`:
// "certvault event checkpoint v1" | token_id u64 | seq u64 | time_ms i64 |
// key_no u32 | head (32 bytes).
Bytes CheckpointMessage(const storage::CheckpointRow& cp);

// KeyFingerprint: lower-case hex SHA-256 of a SubjectPublicKeyInfo DER.
Result<std::string> KeyFingerprint(std::span<const uint8_t> spki);

}  // namespace certvault::audit

#endif  // CERTVAULT_AUDIT_EVENT_CHAIN_H_
