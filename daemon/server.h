// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Server: certvaultd's listener and connections (docs/design/daemon.md).
//
// One thread per connection: a connection carries one call at a time, calls
// block for very different times (a signature takes tens of microseconds, a
// login runs Argon2id, a durable key generation waits for fsync), and the
// embedded backend is thread-safe with per-session locking. A slow, stuck or
// dead client therefore only ever holds its own thread; max_connections
// bounds the threads. A started frame must complete within frame_timeout_ms
// and a response must be taken within the same time, or the connection is
// closed. Any protocol error closes that connection only.
//
// Access: each connection's peer credentials (SO_PEERCRED, SO_PEERGROUPS)
// must match allowed_uids or allowed_gids; otherwise its first request is
// answered with kPermissionDenied and the connection closed.
//
// Thread-safety: Stop() may be called from any thread or a signal handler;
// the rest from the thread that created the server.
#ifndef CERTVAULT_DAEMON_SERVER_H_
#define CERTVAULT_DAEMON_SERVER_H_

#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "daemon/cpu_pairing.h"
#include "daemon/daemon_config.h"
#include "daemon/dispatch.h"
#include "daemon/request_parts.h"
#include "src/base/thread_set.h"
#include "src/ipc/socket_io.h"

namespace certvault::daemon {

// BackendFactory: opens the backend of one new application.
using BackendFactory = std::function<Result<std::unique_ptr<Backend>>()>;

class Server {
 public:
  Server(DaemonConfig config, BackendFactory open_backend);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Listen: binds config.socket_path (replacing a stale socket, refusing a
  // live one), or adopts a systemd-passed socket (LISTEN_FDS). kUnavailable
  // or kAlreadyExists on failure.
  Status Listen();
  // Run: accepts until Stop(); then closes every connection and waits (up to
  // a few seconds) for their threads. Removes the socket file it created.
  Status Run();
  // Stop: async-signal-safe.
  void Stop();

  // For tests: connections being served now, applications alive now.
  size_t connection_count() const { return connections_.load(); }
  size_t app_count();
  // owns_socket_file: Listen created the socket file (not systemd's).
  bool owns_socket_file() const { return owns_socket_file_; }

 private:
  void Serve(int fd, struct ucred cred);
  // Allowed: the peer's uid, primary gid or one of its supplementary groups
  // (SO_PEERGROUPS, as of connect time) is in the allowed sets.
  bool Allowed(int fd, const struct ucred& cred) const;
  // PeerGroups: the peer's supplementary groups (SO_PEERGROUPS) and `primary`.
  static std::vector<gid_t> PeerGroups(int fd, gid_t primary);
  // Handshake: the first frame (Hello / Attach). False closes the connection.
  bool Handshake(int fd, const struct ucred& cred, const ipc::FrameHeader& h, std::span<const uint8_t> body,
                 ipc::WireBuffer* out, std::shared_ptr<App>* app);
  // Answer: one request of an application (a kContinued part or a call);
  // false closes the connection (malformed, or the response not taken).
  bool Answer(int fd, const ipc::FrameHeader& h, std::span<const uint8_t> body, CallContext& ctx,
              RequestParts& parts, ipc::WireBuffer* out);
  std::shared_ptr<App> NewApp(const struct ucred& cred, std::vector<gid_t> gids, Status* status);
  std::shared_ptr<App> FindApp(uint64_t id, const SecretBytes& secret, const struct ucred& cred);
  void DropApp(std::shared_ptr<App> app);
  void Spawn(int fd, const struct ucred& cred);  // tracks fd, starts its thread
  void Untrack(int fd);                          // closes fd; the thread is then finished

  const DaemonConfig config_;
  const BackendFactory open_backend_;
  int listen_fd_ = -1;
  bool owns_socket_file_ = false;
  int stop_pipe_[2] = {-1, -1};
  std::atomic<size_t> connections_{0};
  std::mutex pin_mu_;  // CallContext::pin_mu
  CpuPairing cpu_pairing_;
  PartsBudget parts_budget_;  // 4 x max_request_bytes for all connections
  std::mutex mu_;
  std::condition_variable idle_cv_;
  std::set<int> fds_;                               // GUARDED_BY(mu_)
  ThreadSet threads_;  // connection threads, joined (src/base/thread_set.h)
  std::map<uint64_t, std::weak_ptr<App>> apps_;     // GUARDED_BY(mu_)
  uint64_t next_app_id_ = 1;                        // GUARDED_BY(mu_)
};

}  // namespace certvault::daemon

#endif  // CERTVAULT_DAEMON_SERVER_H_
