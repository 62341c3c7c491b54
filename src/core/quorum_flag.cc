// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/core/quorum_flag.h"

#include <string>

#include "src/base/status_macros.h"
#include "src/core/auth.h"
#include "src/core/integrity.h"

namespace certvault::core {

Status SetTokenFlag(storage::Store& store, storage::TokenId token, const SecretBytes& token_key, uint64_t flag,
                    bool on) {
  CV_ASSIGN_OR_RETURN(SecretBytes ik, DeriveIntegrityKey(token_key));
  CV_ASSIGN_OR_RETURN(storage::TokenRow row, store.GetToken(token));
  CV_ASSIGN_OR_RETURN(TokenState state, OpenTokenState(ik, row));
  const uint64_t flags = on ? (row.flags | flag) : (row.flags & ~flag);
  if (flags == row.flags) return OkStatus();
  row.flags = flags;
  CV_ASSIGN_OR_RETURN(row.integrity, SealTokenState(ik, row, state));  // the flags are a MACed token field
  return store.UpdateToken(row);
}

Status MarkTokenHasQuorum(storage::Store& store, storage::TokenId token, const SecretBytes& token_key) {
  return SetTokenFlag(store, token, token_key, kTokenFlagQuorum, true);
}

Result<bool> TokenHasQuorum(storage::Store& store, storage::TokenId token, const SecretBytes& token_key) {
  CV_ASSIGN_OR_RETURN(storage::TokenRow row, store.GetToken(token));
  if (row.integrity.empty()) return false;  // legacy: it gets a state (and this check) at its next login
  CV_ASSIGN_OR_RETURN(SecretBytes ik, DeriveIntegrityKey(token_key));
  CV_RETURN_IF_ERROR(OpenTokenState(ik, row).status());
  return (row.flags & kTokenFlagQuorum) != 0;
}

Status QuorumRecordMissing(storage::TokenId token, const char* what) {
  return Status(Reason::kCorruptStore,
                "token " + std::to_string(token) +
                    " has a quorum (its integrity-protected record says so) but its "
                    "quorum " +
                    what +
                    " is missing from vault.db: the file was edited outside certvault; the quorum-"
                    "guarded operations are refused (restore the token from a backup)");
}

}  // namespace certvault::core
