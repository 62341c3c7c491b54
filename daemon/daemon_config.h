// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// DaemonConfig: certvaultd's settings, from the [daemon] section of the
// certvault configuration file (docs/config.md) and the command line.
//   [daemon]
//   socket = /run/certvault/certvaultd.sock   # also tells clients to use the daemon
//   allowed_uids = 1000, 1001    # SO_PEERCRED uids allowed to connect (default: the daemon's own uid)
//   allowed_gids = 998           # ... or peers with one of these groups (primary or supplementary)
//   socket_mode = 0660           # permission bits of the socket file
//   max_connections = 256
//   max_sessions_per_client = 1024   # per application (all its connections)
//   max_frame_bytes = 1048576
//   max_request_bytes = 67108864 # a single-part call's request (sent in parts) and its response
//   frame_timeout_ms = 10000     # a started frame must complete within this
//   user = certvault             # drop to this user after binding (when started as root)
//   secure_heap_kib = 4096       # OpenSSL secure heap for key memory
//   lock_memory = true           # mlockall(MCL_CURRENT|MCL_FUTURE|MCL_ONFAULT): nothing of the process is swapped
//   spin_us = 10                 # poll for a client's next request this long before sleeping (0 = never)
//   token_access = payments: alice @payments; web: 33   # per token label: users / @groups (default: all)
//   cpu_pairing = true           # with as many busy connections as CPUs, run each on its client's CPU (cpu_pairing.h)
#ifndef CERTVAULT_DAEMON_DAEMON_CONFIG_H_
#define CERTVAULT_DAEMON_DAEMON_CONFIG_H_

#include <sys/types.h>

#include <map>
#include <set>
#include <string>

#include "daemon/token_access.h"
#include "src/base/result.h"

namespace certvault::daemon {

struct DaemonConfig {
  std::string socket_path;
  std::set<uid_t> allowed_uids;
  std::set<gid_t> allowed_gids;
  unsigned socket_mode = 0660;
  uint32_t max_connections = 256;
  uint32_t max_sessions_per_client = 1024;
  uint32_t max_frame = 1u << 20;
  uint32_t max_request = 64u << 20;  // >= max_frame, <= ipc::kMaxFrameLimit
  int frame_timeout_ms = 10000;
  std::string user;
  uint32_t secure_heap_kib = 4096;
  bool lock_memory = true;
  int spin_us = 10;  // after a response, poll for the next request this long before sleeping
  bool cpu_pairing = true;
  TokenAccess token_access;  // per-token users/groups (token_access.h); empty = all tokens open
  // Seconds between reruns of the power-on self-tests (docs/design/selftest.md); 0: never.
  uint32_t selftest_interval_s = 3600;
};

// ParseDaemonSettings: the [daemon] keys (raw strings from core::Config).
// kInvalidArgument naming the key on an unknown key or a bad value. Without
// allowed_uids/gids, only the daemon's own uid may connect.
Result<DaemonConfig> ParseDaemonSettings(const std::map<std::string, std::string>& settings);

// DefaultSocketPath: $XDG_RUNTIME_DIR/certvault/certvaultd.sock, else
// /run/certvault/certvaultd.sock.
std::string DefaultSocketPath();

}  // namespace certvault::daemon

#endif  // CERTVAULT_DAEMON_DAEMON_CONFIG_H_
