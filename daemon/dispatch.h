// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Dispatch: certvaultd's side of every Backend call. A handler decodes the
// request body, calls the application's embedded backend and encodes the
// response (status first, then the op's results; docs/formats/ipc.md).
#ifndef CERTVAULT_DAEMON_DISPATCH_H_
#define CERTVAULT_DAEMON_DISPATCH_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "daemon/token_access.h"
#include "src/core/backend.h"
#include "src/ipc/codec.h"

namespace certvault::daemon {

// App: one client application (a DaemonBackend in some process): its own
// backend, hence its own sessions and login state, shared by all of its
// connections. Destroyed with the last connection, which closes its sessions.
struct App {
  uint64_t id = 0;
  uid_t uid = 0;
  pid_t pid = 0;
  std::vector<gid_t> gids;  // primary and supplementary groups at connect (token_access)
  SecretBytes attach_secret;
  std::unique_ptr<Backend> backend;
  std::mutex mu;
  std::unordered_map<SessionHandle, SlotId> sessions;  // GUARDED_BY(mu)
};

// CallContext: what a handler works with, one per connection.
struct CallContext {
  App* app = nullptr;
  uint32_t max_sessions = 0;
  uint32_t max_out = 0;     // cap of an output buffer (the frame limit)
  ipc::WireBuffer scratch;  // output buffer, reused across calls; wiped after each
  // pin_mu: serializes every PIN check of the daemon (C_Login, C_SetPIN,
  // C_InitToken). The core decrements a role's try counter before checking
  // the PIN, so more concurrent correct logins than pin_max_tries would lock
  // the PIN; one at a time they never do. It also bounds Argon2id memory to one
  // PIN derivation at a time. Owned by the server.
  std::mutex* pin_mu = nullptr;
  // token_access: who may use which token (owned by the server's config).
  const TokenAccess* token_access = nullptr;
};

// Dispatch: handles one request of `op` (not Hello/Attach). Returns false if
// the op is unknown here or the body is malformed: the caller closes the
// connection. Otherwise `out` holds the response body.
bool Dispatch(ipc::Op op, CallContext& ctx, ipc::Decoder& in, ipc::Encoder& out);

}  // namespace certvault::daemon

#endif  // CERTVAULT_DAEMON_DISPATCH_H_
