// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// TlsFrontEnd: TLS termination with OpenSSL in front of the libmicrohttpd
// server (decision and alternatives: docs/design/enrollment.md). It accepts
// TCP connections, runs the handshake with an SSL_CTX made by the caller
// (in the server's own library context), then hands the server one end of
// a socketpair and copies bytes between it and the TLS connection. The
// client certificate and verification result of each connection are kept
// by the server-side socket until the connection ends (PeerOf).
// One thread per connection, at most max_connections at once (more are
// closed at once); a handshake or read idle for timeout_s drops the client.
#ifndef CERTVAULT_CA_SERVER_TLS_FRONTEND_H_
#define CERTVAULT_CA_SERVER_TLS_FRONTEND_H_

#include <netinet/in.h>
#include <openssl/ssl.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ca/http/http_server.h"
#include "src/base/result.h"
#include "src/base/thread_set.h"

namespace certvault::ca {

struct TlsFrontEndOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port
  uint32_t max_connections = 256;
  uint32_t timeout_s = 30;
};

// Handoff: gives the server its end of a connection (see HttpServer::AddConnection).
using Handoff = std::function<Status(int fd, const sockaddr* addr, socklen_t addr_len)>;

class TlsFrontEnd {
 public:
  // Create: bound and listening when it returns, but accepting only after
  // Run (so that the caller can publish the object to the threads that
  // will call PeerOf first). Takes a reference on `ctx`. kUnavailable if
  // the address cannot be bound.
  static Result<std::unique_ptr<TlsFrontEnd>> Create(const TlsFrontEndOptions& options, SSL_CTX* ctx, Handoff handoff);
  // Run: starts accepting. Call once.
  void Run();
  // Start: Create, then Run.
  static Result<std::unique_ptr<TlsFrontEnd>> Start(const TlsFrontEndOptions& options, SSL_CTX* ctx, Handoff handoff);
  // ~TlsFrontEnd: stops accepting, ends every connection and waits for them.
  ~TlsFrontEnd();
  uint16_t port() const { return port_; }
  // SetContext: connections accepted from now on use `ctx` (takes a
  // reference); open connections keep the context they were made with.
  // Returns the new context's generation (the first is 0).
  // REQUIRES: whatever `ctx` borrows (library context, key) outlives every
  // connection made with it: see OldestGenerationInUse.
  uint64_t SetContext(SSL_CTX* ctx);
  // OldestGenerationInUse: the oldest context generation an open connection
  // still uses (the current one if none): what a context retired at
  // generation G borrows may be freed once this is >= G.
  uint64_t OldestGenerationInUse();
  // PeerOf: the peer of the connection whose server-side socket is `fd`.
  std::shared_ptr<const ConnectionPeer> PeerOf(int fd);
  uint64_t handshake_failures() const { return handshake_failures_.load(); }

 private:
  TlsFrontEnd() = default;
  void AcceptLoop();
  void Serve(int tcp, sockaddr_in addr);
  void Pump(SSL* ssl, int tcp, int local);

  TlsFrontEndOptions options_;
  SSL_CTX* ctx_ = nullptr;  // guarded by mu_ once Run has been called
  Handoff handoff_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable idle_;
  std::map<int, std::shared_ptr<const ConnectionPeer>> peers_;  // guarded by mu_
  std::map<int, uint64_t> active_;  // tcp fd -> its context generation, guarded by mu_ (shut down on stop)
  uint64_t generation_ = 0;          // of ctx_, guarded by mu_
  ThreadSet threads_;  // the connections' threads (joined, never detached)
  bool stopping_ = false;      // guarded by mu_
  std::atomic<uint64_t> handshake_failures_{0};
};

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_SERVER_TLS_FRONTEND_H_
