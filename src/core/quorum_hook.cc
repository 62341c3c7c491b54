// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/core/quorum_hook.h"

#include <atomic>

namespace certvault::core {
namespace {
std::atomic<QuorumAuthorizer> g_authorizer{nullptr};
}  // namespace

void SetQuorumAuthorizer(QuorumAuthorizer fn) { g_authorizer.store(fn, std::memory_order_release); }

Status AuthorizeQuorumOp(storage::Store& store, storage::TokenId token, const SecretBytes& token_key,
                         const std::string& op_id, const std::string& op) {
  QuorumAuthorizer fn = g_authorizer.load(std::memory_order_acquire);
  if (fn == nullptr) {
    return Status(Reason::kFunctionNotSupported,
                  "this process cannot check quorum approvals (no authorizer installed)");
  }
  return fn(store, token, token_key, op_id, op);
}

}  // namespace certvault::core
