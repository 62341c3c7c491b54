// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Process hardening for certvaultd (docs/design/daemon.md, "Hardening").
#ifndef CERTVAULT_DAEMON_HARDENING_H_
#define CERTVAULT_DAEMON_HARDENING_H_

#include <string>

#include "daemon/daemon_config.h"
#include "src/base/status.h"

namespace certvault::daemon {

// HardenProcess: no core dumps (RLIMIT_CORE 0, PR_SET_DUMPABLE 0, which also
// keeps other processes of the same uid from ptrace-attaching or reading
// /proc/PID/mem), SIGPIPE ignored, OpenSSL's secure heap (locked,
// MADV_DONTDUMP) for key memory, and optionally mlockall. Errors only for
// what must not fail (the dumpable flag, the secure heap when configured).
Status HardenProcess(const DaemonConfig& config);

// DropPrivileges: when running as root and `user` is set, switches to that
// user's uid, gid and supplementary groups (irreversibly), then sets
// PR_SET_DUMPABLE 0 again (a uid change resets it). No-op otherwise.
// kNotFound for an unknown user, kPermissionDenied if a switch fails.
// `socket_path` (if not empty) is given to that user first, so that the
// socket keeps its mode but belongs to the service user, not root.
Status DropPrivileges(const std::string& user, const std::string& socket_path = {});

}  // namespace certvault::daemon

#endif  // CERTVAULT_DAEMON_HARDENING_H_
