// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// "This token has a quorum", bound to the token's integrity-protected record
// (issue 16, docs/design/quorum.md "The quorum is part of the token"). The
// quorum record lives in a `meta` row that someone who can write vault.db
// could delete; the flag kTokenFlagQuorum lives in the token row, whose
// fields the token state MAC covers (integrity.h), so it can be neither
// cleared nor deleted without the token key. A flagged token without its
// quorum record (or without its policy pin) was edited outside certvault:
// its guarded operations are refused (kCorruptStore), never run unguarded.
#ifndef CERTVAULT_CORE_QUORUM_FLAG_H_
#define CERTVAULT_CORE_QUORUM_FLAG_H_

#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/storage/store.h"

namespace certvault::core {

// SetTokenFlag: sets (`on`) or clears `flag` (auth.h kTokenFlag*) in the
// verified token row and re-seals its state under `token_key`; the caller
// checked that the change is allowed (the event log flag is the quorum's
// `audit-config`). kCorruptStore if the stored state does not verify. Runs
// in the caller's transaction, if any.
Status SetTokenFlag(storage::Store& store, storage::TokenId token, const SecretBytes& token_key, uint64_t flag,
                    bool on);

// MarkTokenHasQuorum: sets kTokenFlagQuorum on `token` and re-seals its
// token state under `token_key`. kCorruptStore if the stored state does not
// verify. Runs in the caller's transaction (call it inside
// Store::RunExclusive together with the write of the quorum record).
Status MarkTokenHasQuorum(storage::Store& store, storage::TokenId token, const SecretBytes& token_key);

// TokenHasQuorum: whether the token's verified record carries
// kTokenFlagQuorum. kCorruptStore if the token state does not verify (the
// record was edited); false for a legacy token without a state.
Result<bool> TokenHasQuorum(storage::Store& store, storage::TokenId token, const SecretBytes& token_key);

// QuorumRecordMissing: the kCorruptStore refusal for a flagged token whose
// quorum `what` ("record", "policy pin") is not in vault.db.
Status QuorumRecordMissing(storage::TokenId token, const char* what);

}  // namespace certvault::core

#endif  // CERTVAULT_CORE_QUORUM_FLAG_H_
