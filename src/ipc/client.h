// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// DaemonBackend: the Backend that forwards every call to certvaultd over its
// Unix socket (docs/formats/ipc.md, docs/design/daemon.md). The vault, its
// keys and PINs' derived keys stay in the daemon; this process only sees
// what the Backend interface returns (public attributes, signatures, ...).
//
// One DaemonBackend is one PKCS#11 application to the daemon: its first
// connection says Hello (the daemon opens a backend for it, so login state is
// per application as in embedded mode) and further connections, opened when
// several threads call at once, Attach to the same application. Each
// connection carries one call at a time; idle ones are kept for reuse.
//
// Daemon restart or crash: the call that was in flight returns
// kDeviceRemoved; the application's sessions died with the daemon's state, so
// every later call on them returns kSessionHandleInvalid. Calls without a
// session reconnect lazily (a fresh Hello), so a new OpenSession and Login
// work once the daemon is back. Session handles carry the connection epoch in
// their top 16 bits for this. Reads and connects time out (never hang).
//
// Fork: a child never uses the parent's connections (a pthread_atfork
// handler moves it to a new generation); it reconnects as a new application,
// and the parent's sessions are invalid in it.
//
// Thread-safety: all methods are thread-safe.
#ifndef CERTVAULT_IPC_CLIENT_H_
#define CERTVAULT_IPC_CLIENT_H_

#include <memory>
#include <string>

#include "src/core/backend.h"
#include "src/ipc/wire.h"

namespace certvault::ipc {

struct ClientOptions {
  std::string socket_path;
  int timeout_ms = 120000;  // connect/read/write; a call may wait this long for a busy daemon
  // max_frame: the largest response accepted. Requests are bounded by the
  // daemon's own limit, which it announces in the handshake.
  uint32_t max_frame = kMaxFrameLimit;
  int spin_us = 100;  // poll for the response this long before sleeping (FrameReader::set_spin_us)
};

// OpenDaemonBackend: a client for the daemon at `options.socket_path`. Does
// not connect yet (the first call does), so it succeeds while the daemon is
// down. CERTVAULT_IPC_TIMEOUT_MS overrides the timeout, CERTVAULT_IPC_SPIN_US
// the spin window.
Result<std::unique_ptr<Backend>> OpenDaemonBackend(const ClientOptions& options);

// PingDaemon: one no-op round trip on `backend` (a DaemonBackend), for the
// bench and health checks. kInvalidArgument if `backend` is not one.
Status PingDaemon(Backend* backend);

}  // namespace certvault::ipc

#endif  // CERTVAULT_IPC_CLIENT_H_
