// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// HttpServer's application hook (the EST service of `serve`): the handler
// sees requests first with their body, peer and size flag; what it declines
// still reaches the OCSP route with its body intact; connections handed in
// by AddConnection carry the peer that PeerLookup gives; deferred requests
// wait without holding a thread and are answered from another thread.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "ca/http/http_server.h"
#include "ca/ocsp/ocsp_ptr.h"
#include "ca/testing/test_ca.h"

namespace certvault::ca {
namespace {

using testing::TestCa;

std::string Exchange(int fd, const std::string& request) {
  EXPECT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

int Connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  return fd;
}

std::string Post(const std::string& path, const std::string& body, const std::string& type = "text/plain") {
  return "POST " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

class HttpAppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto made = TestCa::Create();
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    ca_ = std::move(*made);
    auto responder = OcspResponder::Create(ca_->ca().db(), ca_->IssuingName(), ca_->Issuing(),
                                           *ca_->ca().Cert(CaRole::kOcsp), **ca_->ca().Key(CaRole::kOcsp), 60);
    ASSERT_TRUE(responder.ok());
    responder_ = std::move(*responder);
    HttpOptions opts;
    opts.max_request_bytes = 256;
    opts.app = [this](const HttpRequest& req, HttpReply& reply) {
      if (req.path == "/deferred") return Defer(req);
      if (req.path == "/answered-at-once") {  // the sink runs before the handler returns
        HttpReply now;
        now.status = 201;
        now.body = req.body;
        req.defer()(std::move(now));
        return true;
      }
      if (req.path != "/app") return false;
      std::lock_guard<std::mutex> lock(mu_);
      seen_ = req.method + " body=" + std::string(req.body.begin(), req.body.end()) +
              " large=" + (req.too_large ? "1" : "0") + " tls=" + (req.peer->tls ? "1" : "0");
      reply.status = 202;
      reply.body = {'o', 'k'};
      return true;
    };
    opts.peer_of = [](int) {  // any socket: the server must ask only for handed-in ones
      auto p = std::make_shared<ConnectionPeer>();
      p->tls = true;
      return std::shared_ptr<const ConnectionPeer>(p);
    };
    auto server = HttpServer::Start(opts, *responder_, [](const std::string&) -> Result<Bytes> {
      return NotFoundError("none");
    });
    ASSERT_TRUE(server.ok());
    server_ = std::move(*server);
  }
  bool Defer(const HttpRequest& req) {
    if (!req.defer) return false;
    std::lock_guard<std::mutex> lock(mu_);
    sinks_.emplace_back(std::string(req.body.begin(), req.body.end()), req.defer());
    sinks_cv_.notify_all();
    return true;
  }
  std::string Seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }
  std::unique_ptr<TestCa> ca_;
  std::unique_ptr<OcspResponder> responder_;
  std::mutex mu_;
  std::condition_variable sinks_cv_;
  std::vector<std::pair<std::string, ReplySink>> sinks_;  // deferred requests: body, sink
  std::string seen_;
  std::unique_ptr<HttpServer> server_;  // destroyed first: it waits for the deferred answers
};

TEST_F(HttpAppTest, HandlerSeesRequestsFirst) {
  std::string out = Exchange(Connect(server_->port()), Post("/app", "hello"));
  EXPECT_EQ(out.rfind("HTTP/1.1 202", 0), 0u) << out;
  EXPECT_EQ(Seen(), "POST body=hello large=0 tls=0");  // the listening socket: plain
  out = Exchange(Connect(server_->port()), "GET /app HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 202", 0), 0u) << out;
  EXPECT_EQ(Seen(), "GET body= large=0 tls=0");
  out = Exchange(Connect(server_->port()), Post("/app", std::string(300, 'x')));
  EXPECT_EQ(Seen(), "POST body= large=1 tls=0");  // over max_request_bytes: flagged, not kept
}

TEST_F(HttpAppTest, DeclinedRequestsKeepTheirBodyForOcsp) {
  ossl::UniquePtr<X509> cert(X509_dup(ca_->Issuing()));
  ossl::UniquePtr<OCSP_REQUEST> req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), OCSP_cert_to_id(EVP_sha1(), cert.get(), ca_->Root()));  // req owns the id
  unsigned char* der = nullptr;
  int len = i2d_OCSP_REQUEST(req.get(), &der);
  std::string body(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  std::string out = Exchange(Connect(server_->port()), Post("/", body, "application/ocsp-request"));
  size_t start = out.find("\r\n\r\n");
  ASSERT_NE(start, std::string::npos) << out;
  ASSERT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out.substr(0, start);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(out.data()) + start + 4;
  ossl::UniquePtr<OCSP_RESPONSE> resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(out.size() - start - 4)));  // NOLINT
  ASSERT_NE(resp, nullptr);
  // Not malformedRequest (1): the responder got the body the hook had looked at.
  EXPECT_NE(OCSP_response_status(resp.get()), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
}

TEST_F(HttpAppTest, HandedInConnectionsCarryTheirPeer) {
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  ASSERT_TRUE(server_->AddConnection(pair[1], reinterpret_cast<sockaddr*>(&addr), sizeof(addr)).ok());
  std::string out = Exchange(pair[0], Post("/app", "x"));
  EXPECT_EQ(out.rfind("HTTP/1.1 202", 0), 0u) << out;
  EXPECT_EQ(Seen(), "POST body=x large=0 tls=1");
}

// The server has 2 threads; 24 requests are deferred at once. Had each
// held its thread until answered, the third would never reach the handler.
TEST_F(HttpAppTest, DeferredRequestsWaitWithoutHoldingThreads) {
  constexpr int kRequests = 24;
  std::vector<int> fds;
  for (int i = 0; i < kRequests; ++i) {
    fds.push_back(Connect(server_->port()));
    std::string req = Post("/deferred", std::to_string(i));
    ASSERT_EQ(write(fds.back(), req.data(), req.size()), static_cast<ssize_t>(req.size()));
  }
  std::vector<std::pair<std::string, ReplySink>> sinks;
  {
    std::unique_lock<std::mutex> lock(mu_);
    sinks_cv_.wait(lock, [this] { return sinks_.size() == kRequests; });
    sinks.swap(sinks_);
  }
  std::thread answerer([&sinks] {  // as the issue worker does
    for (auto& [body, sink] : sinks) {
      HttpReply reply;
      reply.status = 200;
      reply.body.assign(body.begin(), body.end());
      reply.body.push_back('!');
      sink(std::move(reply));
    }
  });
  for (int i = 0; i < kRequests; ++i) {
    std::string out = Exchange(fds[static_cast<size_t>(i)], "");
    EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
    EXPECT_TRUE(out.ends_with("\r\n\r\n" + std::to_string(i) + "!")) << out;
  }
  answerer.join();
}

TEST_F(HttpAppTest, DeferredRequestAnsweredBeforeTheHandlerReturns) {
  std::string out = Exchange(Connect(server_->port()), Post("/answered-at-once", "now"));
  EXPECT_EQ(out.rfind("HTTP/1.1 201", 0), 0u) << out;
  EXPECT_TRUE(out.ends_with("\r\n\r\nnow")) << out;
  // A request without a body cannot be deferred: the handler declines it.
  out = Exchange(Connect(server_->port()), "GET /deferred HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;  // the OCSP route's malformedRequest
}

}  // namespace
}  // namespace certvault::ca
