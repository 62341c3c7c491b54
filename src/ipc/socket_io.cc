// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/ipc/socket_io.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "src/base/status_macros.h"

namespace certvault::ipc {
namespace {

constexpr size_t kInitialBuffer = 16 * 1024;
constexpr int kContendedYieldUs = 20;

void SetTimeouts(int fd, int timeout_ms) {
  struct timeval tv;
  tv.tv_sec = timeout_ms / 1000;
  tv.tv_usec = (timeout_ms % 1000) * 1000;
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

Status IoError(int err, const char* what) {
  if (err == EAGAIN || err == EWOULDBLOCK)
    return Status(StatusCode::kDeadlineExceeded, std::string(what) + ": timed out");
  return UnavailableError(std::string(what) + ": " + std::strerror(err));
}

}  // namespace

Result<int> ConnectUnix(const std::string& path, int timeout_ms) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return InvalidArgumentError("socket path is empty or too long");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return IoError(errno, "socket");
  SetTimeouts(fd, timeout_ms);
  int rc;
  do {
    rc = connect(fd, reinterpret_cast<const struct sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    Status s = UnavailableError(std::string("certvaultd is not reachable: ") + std::strerror(errno));
    close(fd);
    return s;
  }
  return fd;
}

Status WriteAll(int fd, std::span<const uint8_t> data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError(errno, "send");
    }
    data = data.subspan(static_cast<size_t>(n));
  }
  return OkStatus();
}

void FrameReader::Release() {
  if (next_ > start_) OPENSSL_cleanse(buf_.data() + start_, next_ - start_);
  start_ = next_;
  if (start_ == end_) start_ = next_ = end_ = 0;
}

bool FrameReader::Spin(int fd, Status* status) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(spin_us_);
  do {
    ssize_t n = recv(fd, buf_.data() + end_, buf_.size() - end_, MSG_DONTWAIT);
    if (n > 0) {
      end_ += static_cast<size_t>(n);
      *status = OkStatus();
      return true;
    }
    if (n == 0) {
      *status = UnavailableError("connection closed by peer");
      return true;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      *status = IoError(errno, "recv");
      return true;
    }
    // Lets the peer run if it shares this CPU. A yield that took long means
    // other threads wanted this CPU: the CPUs are oversubscribed and spinning
    // would only take time from them, so sleep in recv instead.
    const auto before = std::chrono::steady_clock::now();
    sched_yield();
    const auto after = std::chrono::steady_clock::now();
    if (after - before > std::chrono::microseconds(kContendedYieldUs) || after >= deadline) return false;
  } while (true);
}

Status FrameReader::Fill(int fd, bool partial, int partial_timeout_ms) {
  if (!partial && spin_us_ > 0) {
    Status spun;
    if (Spin(fd, &spun)) return spun;
  }
  if (partial) {
    struct pollfd p = {fd, POLLIN, 0};
    int rc;
    do {
      rc = poll(&p, 1, partial_timeout_ms);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) return Status(StatusCode::kDeadlineExceeded, "IPC frame: incomplete frame timed out");
    if (rc < 0) return IoError(errno, "poll");
  }
  ssize_t n;
  do {
    n = recv(fd, buf_.data() + end_, buf_.size() - end_, 0);
  } while (n < 0 && errno == EINTR);
  if (n == 0) return UnavailableError("connection closed by peer");
  if (n < 0) return IoError(errno, "recv");
  end_ += static_cast<size_t>(n);
  return OkStatus();
}

Status FrameReader::Next(int fd, int partial_timeout_ms, std::span<const uint8_t>* frame) {
  Release();
  if (buf_.empty()) buf_.resize(kInitialBuffer);
  for (;;) {
    const size_t have = end_ - start_;
    size_t need = kLengthSize;
    if (have >= kLengthSize) {
      CV_ASSIGN_OR_RETURN(uint32_t len, ParseLength({buf_.data() + start_, kLengthSize}, max_frame_));
      need = kLengthSize + len;
      if (have >= need) {
        next_ = start_ + need;
        *frame = std::span<const uint8_t>(buf_.data() + start_, need);
        return OkStatus();
      }
    }
    if (start_ + need > buf_.size()) {  // make room: move the partial frame to the front, grow if needed
      std::memmove(buf_.data(), buf_.data() + start_, have);
      OPENSSL_cleanse(buf_.data() + have, end_ - have);
      start_ = next_ = 0;
      end_ = have;
      if (need > buf_.size()) buf_.resize(need);
    }
    CV_RETURN_IF_ERROR(Fill(fd, have > 0, partial_timeout_ms));
  }
}

}  // namespace certvault::ipc
