// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// HttpServer: the CA's HTTP endpoint, on GNU libmicrohttpd (a thread pool
// with epoll). Routes:
//   POST /            application/ocsp-request body (RFC 6960 Appendix A.1)
//   GET  /<base64>    the URL-encoded base64 DER request (Appendix A.1)
//   GET  /crl/full.crl, /crl/delta.crl   the latest cached CRLs (DER);
//        /crl/full-pN.crl, /crl/delta-pN.crl with partitioned CRLs
// Bodies above max_request_bytes get 413 without being read further.
// An application handler (HttpOptions::app, the EST service of `serve`) sees
// every request first; what it does not take goes to the routes above.
// Connections come from the listening socket (plain HTTP) or are handed in
// by AddConnection (TLS terminated in front, ca/server/tls_frontend.h); the
// handler learns which from HttpRequest::peer.
#ifndef CERTVAULT_CA_HTTP_HTTP_SERVER_H_
#define CERTVAULT_CA_HTTP_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <sys/socket.h>
#include <utility>
#include <vector>

#include "ca/ocsp/ocsp_responder.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::ca {

// ConnectionPeer: what is known of a connection's client. Immutable once
// the connection is handed to the server.
struct ConnectionPeer {
  bool tls = false;
  std::string address;             // the client's IP address
  ossl::UniquePtr<X509> cert;      // the TLS client certificate, or null
  long verify_result = 0;          // NOLINT(runtime/int) SSL_get_verify_result (X509_V_OK = 0)
};

struct HttpReply {
  unsigned int status = 200;
  std::string content_type = "text/plain";
  std::vector<std::pair<std::string, std::string>> headers;
  Bytes body;
};

// ReplySink: answers a deferred request; call it exactly once, from any
// thread, while the HttpServer exists (its destructor waits for it).
using ReplySink = std::function<void(HttpReply reply)>;

struct HttpRequest {
  std::string method;
  std::string path;
  std::string authorization;       // the Authorization header, or ""
  std::string content_type;
  Bytes body;
  bool too_large = false;          // the body exceeded max_request_bytes (and was dropped)
  const ConnectionPeer* peer = nullptr;  // never null inside the handler
  // defer: for a request with a body, the handler may take the request,
  // call defer() and return true with `reply` left unused; the connection
  // is then suspended (no thread waits) until the returned sink is called
  // with the answer. Null where the answer must be given synchronously.
  std::function<ReplySink()> defer;
};

// AppHandler: returns false for a request it does not serve. Called on the
// server's threads, concurrently.
using AppHandler = std::function<bool(const HttpRequest& request, HttpReply& reply)>;
// PeerLookup: the peer of a connection handed in by AddConnection, by its
// socket; null for the listening socket's connections.
using PeerLookup = std::function<std::shared_ptr<const ConnectionPeer>(int fd)>;

struct HttpOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 0;
  uint32_t threads = 2;
  size_t max_request_bytes = 16384;
  // ocsp_path: the path of ca.toml's ocsp_url ("/ocsp" for
  // "http://host/ocsp"). A GET request is the rest of the URL after it or
  // after "/" (RFC 6960 A.1: "{url}/{url-encoding of base-64 ...}").
  std::string ocsp_path;
  bool listen = true;              // false: no listening socket, AddConnection only
  uint32_t max_connections = 1024;
  uint32_t timeout_s = 30;         // a connection idle this long is closed (slow clients)
  AppHandler app;                  // optional
  PeerLookup peer_of;              // optional (with AddConnection)
};

// OcspPathOf: the path of an http URL without a trailing "/" ("" for none).
std::string OcspPathOf(const std::string& url);

// CrlSource: the latest CRL DER by name ("full", "delta", "full-p3", ...);
// kNotFound if none.
using CrlSource = std::function<Result<Bytes>(const std::string& kind)>;

class HttpServer {
 public:
  // Start: listening when it returns. kUnavailable if the port is taken.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpOptions& options, OcspResponder& responder,
                                                   CrlSource crls);
  ~HttpServer();  // waits for the deferred requests' answers, then stops the daemon
  uint16_t port() const { return port_; }
  // AddConnection: serve the connected socket `fd` (ownership passes to the
  // server, also on failure). `addr` is the client's address for the log.
  Status AddConnection(int fd, const sockaddr* addr, socklen_t addr_len);

  struct Impl;

 private:
  HttpServer() = default;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_HTTP_HTTP_SERVER_H_
