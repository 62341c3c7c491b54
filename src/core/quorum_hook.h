// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The core's one entry into the quorum (src/quorum/, docs/design/quorum.md).
// The quorum library sits above the core (its custodians are tokens), so
// the core cannot call it directly: the process installs its authorizer
// once at start-up (quorum::InstallQuorumAuthorizer, called by OpenBackend,
// certvaultd and the CLI). A process that installed none refuses every
// quorum-protected key creation and destruction.
#ifndef CERTVAULT_CORE_QUORUM_HOOK_H_
#define CERTVAULT_CORE_QUORUM_HOOK_H_

#include <string>

#include "src/base/secret_bytes.h"
#include "src/base/status.h"
#include "src/storage/store.h"

namespace certvault::core {

// QuorumAuthorizer: checks that `op_id` is a pending, unexpired operation
// `op` of `token` with k approvals that rebuild the quorum secret, marks it
// done (single use) and records the outcome; kPermissionDenied otherwise.
using QuorumAuthorizer = Status (*)(storage::Store& store, storage::TokenId token, const SecretBytes& token_key,
                                    const std::string& op_id, const std::string& op);

// SetQuorumAuthorizer: installs `fn` for the process. Thread-safe; the last
// one installed wins (every caller installs the same function).
void SetQuorumAuthorizer(QuorumAuthorizer fn);

// AuthorizeQuorumOp: the installed authorizer's verdict; kFunctionNotSupported
// if none is installed.
Status AuthorizeQuorumOp(storage::Store& store, storage::TokenId token, const SecretBytes& token_key,
                         const std::string& op_id, const std::string& op);

}  // namespace certvault::core

#endif  // CERTVAULT_CORE_QUORUM_HOOK_H_
