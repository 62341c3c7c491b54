// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Process hardening for certvaultd (docs/design/daemon.md, "Hardening").
#ifndef CERTVAULT_DAEMON_HARDENING_H_
#define CERTVAULT_DAEMON_HARDENING_H_

#include <sys/types.h>

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

// SocketHandover: what DropPrivileges gives the service user before the switch.
struct SocketHandover {
  std::string path;        // the socket file certvaultd created ("" = none)
  bool give_dir = false;   // certvaultd created the socket's directory: give it too,
                           // so the service user can remove the socket at exit
};

// DropPrivileges: when running as root and `user` is set, switches to that
// user's uid, gid and supplementary groups (irreversibly), then sets
// PR_SET_DUMPABLE 0 again (a uid change resets it). No-op otherwise.
// kNotFound for an unknown user, kPermissionDenied if a switch fails.
// The socket (and its directory if `give_dir`) is given to that user first
// (GiveToUser), so the socket keeps its mode but belongs to the service user.
Status DropPrivileges(const std::string& user, const SocketHandover& socket = {});

// GiveToUser: chowns `path` to uid:gid without following a symbolic link at
// any moment: the file is opened O_PATH|O_NOFOLLOW, checked on that
// descriptor (of type `type`, S_IFSOCK or S_IFDIR, and owned by this process's
// euid, so that a file an attacker put there is never given away), and
// changed through the same descriptor. A user who can write the directory
// and swaps a symbolic link in cannot redirect the change onto another file.
// kPermissionDenied with nothing changed otherwise.
Status GiveToUser(const std::string& path, mode_t type, uid_t uid, gid_t gid);

}  // namespace certvault::daemon

#endif  // CERTVAULT_DAEMON_HARDENING_H_
