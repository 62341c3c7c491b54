// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The k-of-n quorum of a token (docs/design/quorum.md). A random 32-byte
// quorum secret is split with Shamir (shamir.h); share x goes to custodian x
// (custodian.h). The vault keeps only public data, in its `meta` table:
//   quorum/<token>/config             QuorumConfig, MACed under the token key
//   quorum/<token>/op/<id>            a requested operation (OpRecord)
//   quorum/<token>/op/<id>/approval/<x>  custodian x's share sealed to the op
//   quorum/<token>/op/<id>/done       the operation ran (single use)
// A guarded operation needs the SO PIN (the token key) and AuthorizeOp,
// which rebuilds the secret from k approvals, checks it against the
// config's verifier, marks the operation done and returns the secret: it
// exists whole only in the process that runs the operation.
#ifndef CERTVAULT_QUORUM_QUORUM_H_
#define CERTVAULT_QUORUM_QUORUM_H_

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/quorum/custodian.h"
#include "src/storage/store.h"

namespace certvault::quorum {

inline constexpr int64_t kDefaultApprovalSeconds = 600;

struct CustodianEntry {
  uint8_t x = 0;
  Bytes public_key;  // X25519
  std::string name;
};

struct QuorumConfig {
  Bytes quorum_id;     // 16 bytes, kept across re-sharing
  uint32_t epoch = 1;  // +1 at each re-sharing: older shares are refused
  uint8_t k = 0;
  uint8_t n = 0;
  std::vector<CustodianEntry> custodians;  // x = 1..n
  Bytes verifier;                          // HMAC(secret, ...) (docs/design/quorum.md)
};

// IsGuardedOp: one of the operation names a quorum guards: backup, restore,
// zeroize, so-pin-reset, create-key, destroy-key, policy, audit-config,
// reshare.
bool IsGuardedOp(const std::string& op);

// LoadQuorum: the token's verified quorum, nullopt if it has none;
// kCorruptStore if the record does not verify under `token_key`.
Result<std::optional<QuorumConfig>> LoadQuorum(storage::Store& store, storage::TokenId token,
                                               const SecretBytes& token_key);

// InitQuorum: a new quorum secret split k-of-custodians.size() to
// `custodians` (each keeps its share); replaces the config. A token that
// already has a quorum is re-shared only with `resharing` (the caller ran
// AuthorizeOp("reshare")): same quorum id, epoch + 1. kAlreadyExists
// otherwise. Writes a `quorum_init` / `quorum_reshare` event.
Result<QuorumConfig> InitQuorum(storage::Store& store, storage::TokenId token, const SecretBytes& token_key, uint8_t k,
                                const std::vector<Custodian*>& custodians, bool resharing);

// RequestOp: a pending operation `op` (IsGuardedOp) of the token, open for
// approvals for `ttl_seconds`. Returns its id (32 hex digits).
// kFailedPrecondition if the token has no quorum.
Result<std::string> RequestOp(storage::Store& store, storage::TokenId token, const SecretBytes& token_key,
                              const std::string& op, int64_t ttl_seconds);

struct ApprovalState {
  storage::TokenId token = 0;
  size_t approvals = 0;  // distinct custodians so far
  uint8_t k = 0;
};

// ApproveOp: custodian `c` gives its share to operation `op_id` (sealed to
// the operation's key). Refused (kPermissionDenied, recorded as
// `quorum_refuse`) if the operation is unknown, expired or done, or the
// custodian holds no current share of the token's quorum (another quorum,
// or an old share after re-sharing).
Result<ApprovalState> ApproveOp(storage::Store& store, const std::string& op_id, Custodian& c);

// The two sides of ApproveOp, for an approver whose process does not open
// the vault (daemon mode: the ticket and the approval travel over
// certvaultd's socket, docs/formats/ipc.md ops 87 and 88). ApproveOp is
// ApprovalTicket, SealApproval and StoreApproval in one process.
// ApprovalTicket (vault side): the public part of the pending operation
// `op_id` (token u64 | the operation record without its sealed key), once
// it is open (not expired, not done) and at the quorum's epoch; refusals
// are recorded as `quorum_refuse`.
Result<Bytes> ApprovalTicket(storage::Store& store, const std::string& op_id);
// SealApproval (custodian side): `c`'s share of the ticket's quorum and
// epoch sealed to the operation's key: x u8 | custodian public key[32] |
// sealed share. kNotFound if `c` holds no such share. The ticket is not
// authenticated: the custodian trusts the vault it approves for (as in
// embedded mode, where the record comes from vault.db).
Result<Bytes> SealApproval(std::span<const uint8_t> ticket, Custodian& c);
// StoreApproval (vault side): checks the operation again and that custodian
// x of the quorum has that public key, stores the approval and records
// `quorum_approve` (or `quorum_refuse`, kPermissionDenied).
Result<ApprovalState> StoreApproval(storage::Store& store, const std::string& op_id, std::span<const uint8_t> approval);

// AuthorizeOp: checks that `op_id` is a pending, unexpired `op` of the token
// with k approvals that rebuild the quorum secret, marks it done and returns
// the secret. kPermissionDenied otherwise (nothing is marked). Every outcome
// is recorded (`quorum_complete` / `quorum_refuse`).
Result<SecretBytes> AuthorizeOp(storage::Store& store, storage::TokenId token, const SecretBytes& token_key,
                                const std::string& op_id, const std::string& op);

// ResetSoPin: re-seals the token key under `new_so_pin` as the SO's PIN
// record (fresh salt, the old record's KDF cost and retry limit, counter
// reset), with an `so_pin_reset` event, in one transaction. The caller has
// the token key from the user PIN and ran AuthorizeOp("so-pin-reset").
// kPinLenRange for a PIN shorter than 8 characters.
Status ResetSoPin(storage::Store& store, storage::TokenId token, const SecretBytes& token_key,
                  const SecretBytes& new_so_pin);

// InstallQuorumAuthorizer: lets the core (src/core/quorum_hook.h) check the
// approved operations that create and destroy quorum-protected keys with
// AuthorizeOp (the rebuilt secret is dropped at once). Called by every
// process that opens a vault: OpenBackend, certvaultd, the CLI.
void InstallQuorumAuthorizer();

// FindOpToken: the token whose pending operation is `op_id`; kNotFound.
Result<storage::TokenId> FindOpToken(storage::Store& store, const std::string& op_id);

std::string HexOf(std::span<const uint8_t> b);

}  // namespace certvault::quorum

#endif  // CERTVAULT_QUORUM_QUORUM_H_
