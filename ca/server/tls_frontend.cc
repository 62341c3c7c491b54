// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/server/tls_frontend.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include <cerrno>

#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

bool WriteAll(int fd, const uint8_t* data, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

void SetTimeouts(int fd, uint32_t seconds) {
  timeval tv{static_cast<time_t>(seconds), 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

}  // namespace

Result<std::unique_ptr<TlsFrontEnd>> TlsFrontEnd::Start(const TlsFrontEndOptions& options, SSL_CTX* ctx,
                                                        Handoff handoff) {
  auto fe = Create(options, ctx, std::move(handoff));
  if (fe.ok()) (*fe)->Run();
  return fe;
}

void TlsFrontEnd::Run() { acceptor_ = std::thread([this] { AcceptLoop(); }); }

Result<std::unique_ptr<TlsFrontEnd>> TlsFrontEnd::Create(const TlsFrontEndOptions& options, SSL_CTX* ctx,
                                                         Handoff handoff) {
  std::unique_ptr<TlsFrontEnd> fe(new TlsFrontEnd());
  fe->options_ = options;
  fe->handoff_ = std::move(handoff);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(options.port);
  if (inet_pton(AF_INET, options.bind.c_str(), &addr.sin_addr) != 1) {
    return InvalidArgumentError("bind address must be an IPv4 address");
  }
  fe->listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fe->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  socklen_t len = sizeof(addr);
  if (fe->listen_fd_ < 0 || bind(fe->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fe->listen_fd_, 128) != 0 || getsockname(fe->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      pipe2(fe->stop_pipe_, O_CLOEXEC) != 0) {
    return UnavailableError("cannot listen on " + options.bind + ":" + std::to_string(options.port));
  }
  fe->port_ = ntohs(addr.sin_port);
  SSL_CTX_up_ref(ctx);
  fe->ctx_ = ctx;
  return fe;
}

TlsFrontEnd::~TlsFrontEnd() {
  if (acceptor_.joinable()) {
    char b = 0;
    (void)!write(stop_pipe_[1], &b, 1);
    acceptor_.join();
  }
  std::unique_lock<std::mutex> lock(mu_);
  stopping_ = true;
  for (const auto& [fd, unused] : active_) shutdown(fd, SHUT_RDWR);  // wakes each connection's thread
  idle_.wait(lock, [this] { return active_.empty(); });
  lock.unlock();
  threads_.Reap(false, true);
  for (int fd : {listen_fd_, stop_pipe_[0], stop_pipe_[1]}) {
    if (fd >= 0) close(fd);
  }
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

std::shared_ptr<const ConnectionPeer> TlsFrontEnd::PeerOf(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = peers_.find(fd);
  return it == peers_.end() ? nullptr : it->second;
}

void TlsFrontEnd::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    sockaddr_in addr{};
    socklen_t len = sizeof(addr);
    int tcp = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_CLOEXEC);
    if (tcp < 0) continue;
    threads_.Reap();
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || active_.size() >= options_.max_connections) {
      close(tcp);  // connection limit: refused at once
      continue;
    }
    active_[tcp] = generation_;
    threads_.Start([this, tcp, addr] { Serve(tcp, addr); });
  }
}

uint64_t TlsFrontEnd::SetContext(SSL_CTX* ctx) {
  SSL_CTX_up_ref(ctx);
  std::lock_guard<std::mutex> lock(mu_);
  SSL_CTX_free(ctx_);
  ctx_ = ctx;
  return ++generation_;
}

uint64_t TlsFrontEnd::OldestGenerationInUse() {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t oldest = generation_;
  for (const auto& [fd, gen] : active_) oldest = std::min(oldest, gen);
  return oldest;
}

// Serve: one connection, on its own thread: handshake, handoff, pump.
void TlsFrontEnd::Serve(int tcp, sockaddr_in addr) {
  SetTimeouts(tcp, options_.timeout_s);
  SSL_CTX* ctx = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ctx = ctx_;
    SSL_CTX_up_ref(ctx);
    active_[tcp] = generation_;  // the generation this connection uses
  }
  SSL* ssl = SSL_new(ctx);  // holds its own reference
  SSL_CTX_free(ctx);
  int pair[2] = {-1, -1};
  if (ssl != nullptr && SSL_set_fd(ssl, tcp) == 1 && SSL_accept(ssl) == 1 &&
      socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0) {
    auto peer = std::make_shared<ConnectionPeer>();
    peer->tls = true;
    char text[INET_ADDRSTRLEN] = {0};
    inet_ntop(AF_INET, &addr.sin_addr, text, sizeof(text));
    peer->address = text;
    peer->cert.reset(SSL_get1_peer_certificate(ssl));
    peer->verify_result = SSL_get_verify_result(ssl);
    {
      std::lock_guard<std::mutex> lock(mu_);
      peers_[pair[1]] = peer;
    }
    fcntl(pair[1], F_SETFL, fcntl(pair[1], F_GETFL) | O_NONBLOCK);
    int server_fd = pair[1];
    if (handoff_(server_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)).ok()) Pump(ssl, tcp, pair[0]);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = peers_.find(server_fd);
    if (it != peers_.end() && it->second == peer) peers_.erase(it);  // a reused fd number may be another's by now
  } else {
    handshake_failures_.fetch_add(1);
    ERR_clear_error();
  }
  if (ssl != nullptr) SSL_free(ssl);
  if (pair[0] >= 0) close(pair[0]);
  std::lock_guard<std::mutex> lock(mu_);
  close(tcp);
  active_.erase(tcp);
  threads_.Finished();  // before the destructor can see active_ empty
  idle_.notify_all();
}

// Pump: copies until either side ends. The server closes its end when the
// client was idle for its timeout; SO_RCVTIMEO bounds a half-sent record.
void TlsFrontEnd::Pump(SSL* ssl, int tcp, int local) {
  uint8_t buf[16384];
  for (;;) {
    if (SSL_pending(ssl) == 0) {
      pollfd fds[2] = {{tcp, POLLIN, 0}, {local, POLLIN, 0}};
      if (poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents != 0) {
        ssize_t n = read(local, buf, sizeof(buf));
        if (n <= 0 || SSL_write(ssl, buf, static_cast<int>(n)) != static_cast<int>(n)) return;
        continue;
      }
      if (fds[0].revents == 0) continue;
    }
    int n = SSL_read(ssl, buf, sizeof(buf));
    if (n <= 0) {
      int err = SSL_get_error(ssl, n);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) continue;
      return;
    }
    if (!WriteAll(local, buf, static_cast<size_t>(n))) return;
  }
}

}  // namespace certvault::ca
