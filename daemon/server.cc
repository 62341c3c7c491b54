// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Server: the listening socket, the accept loop and shutdown.
#include "daemon/server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "src/base/status_macros.h"

namespace certvault::daemon {
namespace {

constexpr int kListenFdsStart = 3;  // sd_listen_fds(3)

// SystemdSocket: the socket passed by systemd socket activation, or -1.
int SystemdSocket() {
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  if (pid == nullptr || fds == nullptr || std::atol(pid) != getpid() || std::atoi(fds) < 1) return -1;
  (void)fcntl(kListenFdsStart, F_SETFD, FD_CLOEXEC);
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  return kListenFdsStart;
}

Status Errno(const std::string& what) { return UnavailableError(what + ": " + std::strerror(errno)); }

// RemoveStaleSocket: unlinks `path` if it is a socket nobody listens on.
Status RemoveStaleSocket(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return OkStatus();
  if (!S_ISSOCK(st.st_mode)) return AlreadyExistsError("socket path exists and is not a socket");
  Result<int> probe = ipc::ConnectUnix(path, 1000);
  if (probe.ok()) {
    close(*probe);
    return AlreadyExistsError("another certvaultd is listening on the socket");
  }
  if (unlink(path.c_str()) != 0) return Errno("unlink stale socket");
  return OkStatus();
}

// CheckSocketDir: the socket's directory must be one that only root, this
// process's user and the service user `user` can change entries of: owned by
// one of them, and writable by no group or other unless sticky (then others
// cannot remove or rename our socket). Anyone else able to write there could
// replace the socket (clients would talk to theirs) or race the set-up.
Status CheckSocketDir(const std::string& path, const std::string& user) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) return Errno("socket directory " + dir);
  uid_t service = static_cast<uid_t>(-1);
  if (!user.empty()) {
    struct passwd pw;
    struct passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) service = pw.pw_uid;
  }
  if (st.st_uid != 0 && st.st_uid != geteuid() && st.st_uid != service) {
    return PermissionDeniedError("socket directory " + dir + " belongs to another user");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0) {
    return PermissionDeniedError("socket directory " + dir + " is writable by others (group or world)");
  }
  return OkStatus();
}

}  // namespace

Server::Server(DaemonConfig config, BackendFactory open_backend)
    : config_(std::move(config)),
      open_backend_(std::move(open_backend)),
      parts_budget_(size_t{4} * config_.max_request) {}

Server::~Server() {
  if (listen_fd_ >= 0) close(listen_fd_);
  if (owns_socket_file_) unlink(config_.socket_path.c_str());
  for (int fd : stop_pipe_) {
    if (fd >= 0) close(fd);
  }
}

Status Server::Listen() {
  if (pipe2(stop_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) return Errno("pipe2");
  listen_fd_ = SystemdSocket();
  if (listen_fd_ >= 0) return OkStatus();
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  const std::string& path = config_.socket_path;
  if (path.empty() || path.size() >= sizeof addr.sun_path) return InvalidArgumentError("socket path too long");
  std::memcpy(addr.sun_path, path.data(), path.size());
  CV_RETURN_IF_ERROR(CheckSocketDir(path, config_.user));
  CV_RETURN_IF_ERROR(RemoveStaleSocket(path));
  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return Errno("socket");
  // The socket is created with its final mode: no chmod(path) afterwards,
  // which would follow a symbolic link swapped in meanwhile.
  const mode_t old_mask = umask(0777 & ~static_cast<mode_t>(config_.socket_mode));
  int rc = bind(listen_fd_, reinterpret_cast<const struct sockaddr*>(&addr), sizeof addr);
  umask(old_mask);
  if (rc != 0) return Errno("bind " + path);
  owns_socket_file_ = true;
  if (listen(listen_fd_, 128) != 0) return Errno("listen");
  return OkStatus();
}

void Server::Stop() {
  const char b = 1;
  if (stop_pipe_[1] >= 0) (void)!write(stop_pipe_[1], &b, 1);
}

std::vector<gid_t> Server::PeerGroups(int fd, gid_t primary) {
  std::vector<gid_t> groups(64);
  for (int attempt = 0; attempt < 2; ++attempt) {
    socklen_t len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
      groups.resize(len / sizeof(gid_t));
      groups.push_back(primary);
      return groups;
    }
    if (errno != ERANGE) break;
    groups.resize(len / sizeof(gid_t) + 1);  // the kernel said how many
  }
  return {primary};
}

bool Server::Allowed(int fd, const struct ucred& cred) const {
  if (config_.allowed_uids.count(cred.uid) != 0 || config_.allowed_gids.count(cred.gid) != 0) return true;
  if (config_.allowed_gids.empty()) return false;
  for (gid_t g : PeerGroups(fd, cred.gid)) {
    if (config_.allowed_gids.count(g) != 0) return true;
  }
  return false;
}

void Server::Spawn(int fd, const struct ucred& cred) {
  // Under the lock: the thread cannot reach Untrack before fds_ has it.
  std::lock_guard<std::mutex> lock(mu_);
  fds_.insert(fd);
  connections_.fetch_add(1);
  threads_.Start([this, fd, cred] { Serve(fd, cred); });
}

void Server::Untrack(int fd) {
  // Closed under the lock: the number cannot be reused by accept (and shut
  // down by Run) while it is still in fds_.
  std::lock_guard<std::mutex> lock(mu_);
  fds_.erase(fd);
  close(fd);
  connections_.fetch_sub(1);
  threads_.Finished();
  if (fds_.empty()) idle_cv_.notify_all();
}

Status Server::Run() {
  struct pollfd p[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
  for (;;) {
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return Errno("poll");
    }
    if (p[1].revents != 0) break;
    if ((p[0].revents & POLLIN) == 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {  // EMFILE, ECONNABORTED...: keep serving the others, without spinning on a full table
      if (errno == EMFILE || errno == ENFILE) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    struct ucred cred = {};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || connections_.load() >= config_.max_connections) {
      close(fd);  // over the limit: the client sees the connection closed
      continue;
    }
    Spawn(fd, cred);
    threads_.Reap();
  }
  // Shutdown: wake every connection thread and wait for them.
  {
    std::unique_lock<std::mutex> lock(mu_);
    for (int fd : fds_) shutdown(fd, SHUT_RDWR);
    idle_cv_.wait_for(lock, std::chrono::seconds(5), [this] { return fds_.empty(); });
  }
  // Still serving after the grace period: let them finish on their own.
  threads_.Reap(/*detach_running=*/true);
  return OkStatus();
}

size_t Server::app_count() {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [id, app] : apps_) n += app.expired() ? 0 : 1;
  return n;
}

}  // namespace certvault::daemon
