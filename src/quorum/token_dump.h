// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// TokenDump: every stored row of one token, as the backup payload carries it
// (docs/formats/backup.md, "Payload").
#ifndef CERTVAULT_QUORUM_TOKEN_DUMP_H_
#define CERTVAULT_QUORUM_TOKEN_DUMP_H_

#include <string>
#include <utility>
#include <vector>

#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/storage/store.h"

namespace certvault::quorum {

struct TokenDump {
  storage::TokenRow token;
  SecretBytes token_key;
  std::vector<storage::AuthRow> auth;
  std::vector<storage::AuditKeyRow> audit_keys;
  std::vector<storage::EventRow> events;
  std::vector<storage::CheckpointRow> checkpoints;
  std::vector<std::pair<std::string, Bytes>> meta;  // the quorum config and policy pin (not pending operations)
  std::vector<storage::ObjectRow> objects;
};

// ReadTokenDump: the token's rows from one read transaction.
Result<TokenDump> ReadTokenDump(storage::Store& store, storage::TokenId token, const SecretBytes& token_key);
// EncodeTokenDump / DecodeTokenDump: the payload; kDataLoss on malformed input.
SecureVector EncodeTokenDump(const TokenDump& dump);
Result<TokenDump> DecodeTokenDump(std::span<const uint8_t> payload);
// WriteTokenDump: inserts every row; REQUIRES a transaction (RunExclusive).
Status WriteTokenDump(storage::Store& store, const TokenDump& dump);

}  // namespace certvault::quorum

#endif  // CERTVAULT_QUORUM_TOKEN_DUMP_H_
