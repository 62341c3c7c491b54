// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Internal to src/quorum: record names and encodings (docs/design/quorum.md).
#ifndef CERTVAULT_QUORUM_QUORUM_INTERNAL_H_
#define CERTVAULT_QUORUM_QUORUM_INTERNAL_H_

#include <string>
#include <string_view>

#include "src/base/byte_reader.h"
#include "src/quorum/quorum.h"

namespace certvault::quorum::internal {

inline std::string Prefix(storage::TokenId token) { return "quorum/" + std::to_string(token) + "/"; }
inline std::string ConfigName(storage::TokenId token) { return Prefix(token) + "config"; }
// PolicyPinName: the pinned policy (core/policy_pin.h), carried by backups.
inline std::string PolicyPinName(storage::TokenId token) { return Prefix(token) + "policy"; }
inline std::string OpName(storage::TokenId token, const std::string& id) { return Prefix(token) + "op/" + id; }

inline std::span<const uint8_t> Str(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// PeekQuorum: the config as stored, not verified (approvals have no token key).
Result<QuorumConfig> PeekQuorum(storage::Store& store, storage::TokenId token);

// Verifier: HMAC-SHA-256(secret, "certvault quorum verifier v1" | quorum_id | epoch).
Result<Bytes> Verifier(const SecretBytes& secret, const QuorumConfig& config);

// ShareAad: what binds a share sealed to an operation or an archive.
Bytes ShareAad(std::string_view label, storage::TokenId token, std::span<const uint8_t> id,
               std::span<const uint8_t> quorum_id, uint32_t epoch, uint8_t x);

int64_t NowMs();

}  // namespace certvault::quorum::internal

#endif  // CERTVAULT_QUORUM_QUORUM_INTERNAL_H_
