// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/http/http_server.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <openssl/evp.h>

#include <condition_variable>
#include <cstring>
#include <mutex>

#include "src/base/status_macros.h"

namespace certvault::ca {

struct HttpServer::Impl {
  OcspResponder* responder = nullptr;
  CrlSource crls;
  size_t max_bytes = 16384;
  std::string ocsp_path;  // "/ocsp" or ""
  AppHandler app;
  PeerLookup peer_of;
  MHD_Daemon* daemon = nullptr;
  std::mutex pending_mu;
  std::condition_variable pending_cv;
  size_t pending = 0;  // deferred requests not answered yet; guarded by pending_mu
};

namespace {

struct Upload {
  Bytes body;
  bool too_large = false;
  // A deferred request (HttpRequest::defer): the sink stores the answer and
  // resumes the connection if OnRequest has suspended it.
  std::mutex mu;
  bool suspended = false;  // guarded by mu
  bool ready = false;      // guarded by mu
  HttpReply reply;         // guarded by mu until ready
};

MHD_Result Send(MHD_Connection* conn, unsigned int code, const Bytes& body, const char* type, bool cacheable) {
  MHD_Response* resp = MHD_create_response_from_buffer(body.size(), const_cast<uint8_t*>(body.data()),
                                                       MHD_RESPMEM_MUST_COPY);
  if (resp == nullptr) return MHD_NO;
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  if (cacheable) MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "max-age=60, public, no-transform");
  MHD_Result r = MHD_queue_response(conn, code, resp);
  MHD_destroy_response(resp);
  return r;
}

MHD_Result SendReply(MHD_Connection* conn, const HttpReply& reply) {
  MHD_Response* resp = MHD_create_response_from_buffer(reply.body.size(), const_cast<uint8_t*>(reply.body.data()),
                                                       MHD_RESPMEM_MUST_COPY);
  if (resp == nullptr) return MHD_NO;
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, reply.content_type.c_str());
  for (const auto& [name, value] : reply.headers) MHD_add_response_header(resp, name.c_str(), value.c_str());
  MHD_Result r = MHD_queue_response(conn, reply.status, resp);
  MHD_destroy_response(resp);
  return r;
}

// PeerOf: the connection's peer (set when it started, see OnConnection).
const ConnectionPeer* PeerOf(MHD_Connection* conn) {
  const MHD_ConnectionInfo* info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  if (info == nullptr || info->socket_context == nullptr) return nullptr;
  return static_cast<std::shared_ptr<const ConnectionPeer>*>(info->socket_context)->get();
}

std::string AddressOf(MHD_Connection* conn) {
  const MHD_ConnectionInfo* info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (info == nullptr || info->client_addr == nullptr || info->client_addr->sa_family != AF_INET) return "";
  char text[INET_ADDRSTRLEN] = {0};
  inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(info->client_addr)->sin_addr, text, sizeof(text));
  return text;
}

// OnConnection: on start, the connection's peer is looked up once (by its
// socket, while that socket is certainly this connection's) and kept in
// the socket context until the connection closes.
void OnConnection(void* cls, MHD_Connection* conn, void** socket_context, MHD_ConnectionNotificationCode code) {
  auto* impl = static_cast<HttpServer::Impl*>(cls);
  if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
    delete static_cast<std::shared_ptr<const ConnectionPeer>*>(*socket_context);
    *socket_context = nullptr;
    return;
  }
  std::shared_ptr<const ConnectionPeer> peer;
  const MHD_ConnectionInfo* info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  // Only a handed-in connection (a UNIX socketpair end) may carry a peer:
  // a TCP connection from the listening socket can take the number of a
  // just-closed TLS connection's socket before the front end forgets it,
  // and must never inherit that client's certificate.
  sockaddr_storage local{};
  socklen_t local_len = sizeof(local);
  bool handed_in = info != nullptr && getsockname(info->connect_fd, reinterpret_cast<sockaddr*>(&local), &local_len) == 0 &&
                   local.ss_family == AF_UNIX;
  if (impl->peer_of && handed_in) peer = impl->peer_of(info->connect_fd);
  if (peer == nullptr) {
    auto plain = std::make_shared<ConnectionPeer>();
    plain->address = AddressOf(conn);
    peer = std::move(plain);
  }
  *socket_context = new std::shared_ptr<const ConnectionPeer>(std::move(peer));
}

// MakeSink: the answer of a deferred request. Nothing of `up` is touched
// after the resume: the connection may complete (and free `up`) at once.
ReplySink MakeSink(HttpServer::Impl* impl, MHD_Connection* conn, Upload* up) {
  {
    std::lock_guard<std::mutex> lock(impl->pending_mu);
    ++impl->pending;
  }
  return [impl, conn, up](HttpReply reply) {
    bool resume = false;
    {
      std::lock_guard<std::mutex> lock(up->mu);
      up->reply = std::move(reply);
      up->ready = true;
      resume = up->suspended;
    }
    if (resume) MHD_resume_connection(conn);
    std::lock_guard<std::mutex> lock(impl->pending_mu);
    if (--impl->pending == 0) impl->pending_cv.notify_all();
  };
}

// Deferred: the handler deferred the request: queue the answer if it came
// already, or suspend the connection until the sink resumes it.
MHD_Result Deferred(MHD_Connection* conn, Upload* up) {
  std::lock_guard<std::mutex> lock(up->mu);
  if (up->ready) return SendReply(conn, up->reply);
  MHD_suspend_connection(conn);
  up->suspended = true;
  return MHD_YES;
}

// TryApp: true when the application handler took the request (then the
// reply is queued into *out). `up` is null for a request without a body
// (then the handler must answer at once).
bool TryApp(HttpServer::Impl* impl, MHD_Connection* conn, const char* method, const char* url, Upload* up,
            MHD_Result* out) {
  if (!impl->app) return false;
  const ConnectionPeer* peer = PeerOf(conn);
  if (peer == nullptr) return false;
  HttpRequest req;
  req.method = method;
  req.path = url;
  const char* auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  if (auth != nullptr) req.authorization = auth;
  const char* type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
  if (type != nullptr) req.content_type = type;
  if (up != nullptr) {
    req.body = std::move(up->body);
    req.too_large = up->too_large;
  }
  req.peer = peer;
  bool deferred = false;
  if (up != nullptr) {
    req.defer = [impl, conn, up, &deferred] {
      deferred = true;
      return MakeSink(impl, conn, up);
    };
  }
  HttpReply reply;
  if (!impl->app(req, reply)) {
    if (up != nullptr) up->body = std::move(req.body);  // for the OCSP route
    return false;
  }
  *out = deferred ? Deferred(conn, up) : SendReply(conn, reply);
  return true;
}

MHD_Result SendText(MHD_Connection* conn, unsigned int code, const char* text) {
  Bytes body(text, text + std::strlen(text));
  return Send(conn, code, body, "text/plain", false);
}

// DecodeGetPath: "/MEIw..." or "<ocsp_path>/MEIw..." -> DER. MHD has
// already URL-decoded the path, so the base64 may itself contain '/': the
// request is everything after the configured prefix, not the last segment
// (a DER OCSPRequest's base64 starts "M", never with the prefix).
bool DecodeGetPath(std::string_view path, std::string_view prefix, size_t max, Bytes& out) {
  if (!prefix.empty() && path.starts_with(prefix) && path.substr(prefix.size()).starts_with("/")) {
    path.remove_prefix(prefix.size());
  }
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty() || path.size() > max * 2) return false;
  out.resize(path.size());
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(path.data()), static_cast<int>(path.size()));
  if (n <= 0) return false;
  size_t pad = 0;
  for (size_t i = path.size(); i > 0 && path[i - 1] == '='; --i) ++pad;
  out.resize(static_cast<size_t>(n) - std::min<size_t>(pad, 2));
  return true;
}

MHD_Result HandleGet(HttpServer::Impl* impl, MHD_Connection* conn, std::string_view url) {
  if (url.starts_with("/crl/")) {
    std::string_view name = url.substr(5);
    if (!name.ends_with(".crl") || name.size() > 32) return SendText(conn, MHD_HTTP_NOT_FOUND, "unknown CRL\n");
    std::string kind(name.substr(0, name.size() - 4));
    Result<Bytes> crl = impl->crls(kind);
    if (!crl.ok()) return SendText(conn, MHD_HTTP_NOT_FOUND, "no CRL generated yet\n");
    return Send(conn, MHD_HTTP_OK, *crl, "application/pkix-crl", true);
  }
  Bytes der;
  if (!DecodeGetPath(url, impl->ocsp_path, impl->max_bytes, der)) {
    return Send(conn, MHD_HTTP_OK, OcspErrorResponse(1), "application/ocsp-response", false);
  }
  return Send(conn, MHD_HTTP_OK, impl->responder->Respond(der), "application/ocsp-response", true);
}

MHD_Result OnRequest(void* cls, MHD_Connection* conn, const char* url, const char* method, const char* /*version*/,
                     const char* data, size_t* data_size, void** con_cls) {
  auto* impl = static_cast<HttpServer::Impl*>(cls);
  try {
    MHD_Result handled = MHD_NO;
    bool post = std::strcmp(method, MHD_HTTP_METHOD_POST) == 0 || std::strcmp(method, MHD_HTTP_METHOD_PUT) == 0;
    if (!post && TryApp(impl, conn, method, url, nullptr, &handled)) return handled;
    if (std::strcmp(method, MHD_HTTP_METHOD_GET) == 0) return HandleGet(impl, conn, url);
    if (!post) return SendText(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or POST only\n");
    if (*con_cls == nullptr) {  // first call: headers only
      *con_cls = new Upload();
      return MHD_YES;
    }
    auto* up = static_cast<Upload*>(*con_cls);
    {
      std::lock_guard<std::mutex> lock(up->mu);
      if (up->ready) return SendReply(conn, up->reply);  // resumed: the deferred answer
    }
    if (*data_size != 0) {
      if (up->body.size() + *data_size > impl->max_bytes) up->too_large = true;
      if (!up->too_large) up->body.insert(up->body.end(), data, data + *data_size);
      *data_size = 0;
      return MHD_YES;
    }
    if (TryApp(impl, conn, method, url, up, &handled)) return handled;
    if (std::strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
      return SendText(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or POST only\n");
    }
    if (up->too_large) return SendText(conn, MHD_HTTP_CONTENT_TOO_LARGE, "OCSP request too large\n");
    return Send(conn, MHD_HTTP_OK, impl->responder->Respond(up->body), "application/ocsp-response", false);
  } catch (...) {
    return MHD_NO;  // closes the connection
  }
}

void OnCompleted(void* /*cls*/, MHD_Connection* /*conn*/, void** con_cls, MHD_RequestTerminationCode /*code*/) {
  delete static_cast<Upload*>(*con_cls);
  *con_cls = nullptr;
}

}  // namespace

std::string OcspPathOf(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  size_t slash = url.find('/', scheme + 3);
  if (slash == std::string::npos) return "";
  std::string path = url.substr(slash);
  while (path.ends_with("/")) path.pop_back();
  return path;
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpOptions& options, OcspResponder& responder,
                                                      CrlSource crls) {
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->impl_ = std::make_unique<Impl>();
  server->impl_->responder = &responder;
  server->impl_->crls = std::move(crls);
  server->impl_->max_bytes = options.max_request_bytes;
  server->impl_->ocsp_path = options.ocsp_path;
  server->impl_->app = options.app;
  server->impl_->peer_of = options.peer_of;
  while (server->impl_->ocsp_path.ends_with("/")) server->impl_->ocsp_path.pop_back();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(options.port);
  if (inet_pton(AF_INET, options.bind.c_str(), &addr.sin_addr) != 1) {
    return InvalidArgumentError("bind address must be an IPv4 address");
  }
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
  if (!options.listen) flags |= MHD_USE_NO_LISTEN_SOCKET;
  server->impl_->daemon = MHD_start_daemon(
      flags, options.port, nullptr, nullptr, &OnRequest, server->impl_.get(), MHD_OPTION_SOCK_ADDR, &addr,
      MHD_OPTION_THREAD_POOL_SIZE, static_cast<unsigned int>(std::max<uint32_t>(1, options.threads)),
      MHD_OPTION_NOTIFY_COMPLETED, &OnCompleted, nullptr, MHD_OPTION_NOTIFY_CONNECTION, &OnConnection,
      server->impl_.get(), MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned int>(options.timeout_s),
      MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned int>(options.max_connections), MHD_OPTION_END);
  if (server->impl_->daemon == nullptr) {
    return UnavailableError("cannot listen on " + options.bind + ":" + std::to_string(options.port));
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(server->impl_->daemon, MHD_DAEMON_INFO_BIND_PORT);
  server->port_ = options.listen && info != nullptr ? info->port : options.port;
  return server;
}

Status HttpServer::AddConnection(int fd, const sockaddr* addr, socklen_t addr_len) {
  if (MHD_add_connection(impl_->daemon, fd, addr, addr_len) != MHD_YES) {
    return ResourceExhaustedError("the HTTP server refused the connection");  // MHD closed fd
  }
  return OkStatus();
}

HttpServer::~HttpServer() {
  if (impl_ == nullptr || impl_->daemon == nullptr) return;
  {  // a suspended connection must be resumed before the daemon stops
    std::unique_lock<std::mutex> lock(impl_->pending_mu);
    impl_->pending_cv.wait(lock, [this] { return impl_->pending == 0; });
  }
  MHD_stop_daemon(impl_->daemon);
}

}  // namespace certvault::ca
