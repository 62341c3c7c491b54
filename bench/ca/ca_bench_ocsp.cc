// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca-bench: OCSP responses/s. Clients are threads speaking
// HTTP/1.1 POST over 127.0.0.1, either on one keep-alive connection each or
// with a new connection per request (the only mode `openssl ocsp` serves).
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "bench/ca/ca_bench.h"
#include "ca/http/http_server.h"
#include "ca/testing/free_port.h"
#include "src/base/status_macros.h"

namespace certvault::cabench {
namespace {

int Connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  timeval tv{2, 0};  // a stuck server never hangs the bench
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Exchange: one POST; true when a 200 response with a body came back.
bool Exchange(int fd, const std::string& request, std::string& buf) {
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) return false;
  buf.clear();
  size_t header_end = std::string::npos, need = 0;
  char chunk[8192];
  while (true) {
    ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return header_end != std::string::npos && buf.size() >= need && need > 0;
    buf.append(chunk, static_cast<size_t>(n));
    if (header_end == std::string::npos && (header_end = buf.find("\r\n\r\n")) != std::string::npos) {
      size_t cl = buf.find("Content-Length: ");
      if (cl == std::string::npos) cl = buf.find("content-length: ");
      if (cl == std::string::npos || buf.compare(9, 3, "200") != 0) return false;
      need = header_end + 4 + std::strtoul(buf.c_str() + cl + 16, nullptr, 10);
    }
    if (header_end != std::string::npos && buf.size() >= need) {
      // Count only successful OCSPResponses: SEQUENCE { ENUMERATED 0, ... }.
      std::string_view body = std::string_view(buf).substr(header_end + 4);
      size_t skip = body.size() > 1 && (static_cast<uint8_t>(body[1]) & 0x80) ? 2 + (body[1] & 0x7f) : 2;
      return body.size() > skip + 3 && body[0] == 0x30 && body[skip] == 0x0a && body[skip + 1] == 1 &&
             body[skip + 2] == 0;
    }
  }
}

// CheckOnce: one request answered with a verified response saying `good`.
Status CheckOnce(uint16_t port, const Bytes& der, X509* issuer, X509* leaf) {
  std::string req = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ocsp-request\r\nContent-Length: " +
                    std::to_string(der.size()) + "\r\n\r\n" + std::string(der.begin(), der.end());
  int fd = Connect(port);
  std::string buf;
  bool ok = fd >= 0 && Exchange(fd, req, buf);
  if (fd >= 0) close(fd);
  if (!ok) return InternalError("OCSP responder gave no successful response");
  std::string body = buf.substr(buf.find("\r\n\r\n") + 4);
  const uint8_t* p = reinterpret_cast<const uint8_t*>(body.data());
  OCSP_RESPONSE* resp = d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(body.size()));  // NOLINT(runtime/int)
  OCSP_BASICRESP* bs = resp != nullptr ? OCSP_response_get1_basic(resp) : nullptr;
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, issuer);
  X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
  OCSP_CERTID* id = OCSP_cert_to_id(nullptr, leaf, issuer);
  int status = -1, reason = 0;
  ok = bs != nullptr && OCSP_basic_verify(bs, nullptr, store, 0) == 1 &&
       OCSP_resp_find_status(bs, id, &status, &reason, nullptr, nullptr, nullptr) == 1 &&
       status == V_OCSP_CERTSTATUS_GOOD;
  OCSP_CERTID_free(id);
  X509_STORE_free(store);
  OCSP_BASICRESP_free(bs);
  OCSP_RESPONSE_free(resp);
  return ok ? OkStatus() : InternalError("OCSP response does not verify or does not say good");
}

double Load(uint16_t port, const Bytes& der, bool keep_alive, uint32_t threads, double seconds) {
  std::string req = std::string("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ocsp-request\r\n") +
                    (keep_alive ? "" : "Connection: close\r\n") + "Content-Length: " + std::to_string(der.size()) +
                    "\r\n\r\n" + std::string(der.begin(), der.end());
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> count{0};
  std::vector<std::thread> pool;
  auto t0 = std::chrono::steady_clock::now();
  for (uint32_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      std::string buf;
      int fd = -1;
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (fd < 0) fd = Connect(port);
        if (fd < 0) break;
        bool ok = Exchange(fd, req, buf);
        n += ok ? 1 : 0;
        if (!ok || !keep_alive) {
          close(fd);
          fd = -1;
        }
      }
      if (fd >= 0) close(fd);
      count += n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& t : pool) t.join();
  return static_cast<double>(count.load()) / Seconds(t0);
}

Result<Bytes> RequestFor(X509* cert, X509* issuer, bool nonce) {
  OCSP_CERTID* id = OCSP_cert_to_id(nullptr, cert, issuer);
  OCSP_REQUEST* req = OCSP_REQUEST_new();
  if (id == nullptr || req == nullptr || OCSP_request_add0_id(req, id) == nullptr) return InternalError("OCSP request");
  if (nonce) OCSP_request_add1_nonce(req, nullptr, 16);
  int len = i2d_OCSP_REQUEST(req, nullptr);
  Bytes der(static_cast<size_t>(len));
  uint8_t* p = der.data();
  i2d_OCSP_REQUEST(req, &p);
  OCSP_REQUEST_free(req);
  return der;
}

X509* FirstFileCert(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return nullptr;
  X509* cert = nullptr;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    FILE* f = fopen((dir + "/" + e->d_name).c_str(), "r");
    if (f != nullptr) cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    if (f != nullptr) fclose(f);
    if (cert != nullptr) break;
  }
  closedir(d);
  return cert;
}

// OpensslResponder: `openssl ocsp -port` over the openssl-ca directory.
Result<double> OpensslResponder(const Options& o, double seconds) {
  std::string d = o.work + "/openssl-ca";
  X509* cert = FirstFileCert(d + "/newcerts");
  ossl::UniquePtr<BIO> bio(BIO_new_file((d + "/ca.pem").c_str(), "r"));
  X509* ca_cert = bio != nullptr ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (cert == nullptr || ca_cert == nullptr) return UnavailableError("no openssl ca output");
  CV_ASSIGN_OR_RETURN(Bytes der, RequestFor(cert, ca_cert, false));
  X509_free(cert);
  X509_free(ca_cert);
  uint16_t port = ca::testing::FreeLoopbackPort();
  if (port == 0) return UnavailableError("no free port");
  pid_t pid = fork();
  if (pid == 0) {
    std::string p = std::to_string(port);
    if (freopen("/dev/null", "w", stdout) == nullptr || freopen("/dev/null", "w", stderr) == nullptr) _exit(127);
    execlp("openssl", "openssl", "ocsp", "-index", (d + "/index.txt").c_str(), "-port", p.c_str(), "-rsigner",
           (d + "/ca.pem").c_str(), "-rkey", (d + "/ca.key").c_str(), "-CA", (d + "/ca.pem").c_str(), nullptr);
    _exit(127);
  }
  // Wait until it answers a real request (a bare connect would be taken as
  // a client by the single-threaded responder).
  std::string probe = "POST / HTTP/1.0\r\nContent-Type: application/ocsp-request\r\nContent-Length: " +
                      std::to_string(der.size()) + "\r\n\r\n" + std::string(der.begin(), der.end());
  std::string buf;
  for (int i = 0; i < 50; ++i) {
    int fd = Connect(port);
    bool ok = fd >= 0 && Exchange(fd, probe, buf);
    if (fd >= 0) close(fd);
    if (ok) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  double rate = Load(port, der, false, o.threads, seconds);
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  return rate;
}

}  // namespace

Status RunOcsp(const Options& o, ca::CaInstance& inst, const std::vector<ca::IssueItem>& csrs, Results& out) {
  CV_ASSIGN_OR_RETURN(X509 * issuing, inst.Cert(ca::CaRole::kIssuing));
  CV_ASSIGN_OR_RETURN(X509 * ocsp_cert, inst.Cert(ca::CaRole::kOcsp));
  CV_ASSIGN_OR_RETURN(ca::CaKey * ocsp_key, inst.Key(ca::CaRole::kOcsp));
  CV_ASSIGN_OR_RETURN(auto list, inst.db().List(inst.Name(ca::CaRole::kIssuing), "device-", 1));
  if (list.empty()) return FailedPreconditionError("no issued certificate to ask about");
  const uint8_t* p = list[0].der.data();
  ossl::UniquePtr<X509> leaf(d2i_X509(nullptr, &p, static_cast<long>(list[0].der.size())));  // NOLINT
  CV_ASSIGN_OR_RETURN(auto responder, ca::OcspResponder::Create(inst.db(), inst.Name(ca::CaRole::kIssuing), issuing,
                                                                ocsp_cert, *ocsp_key, 60));
  ca::HttpOptions http;
  http.threads = o.threads;
  CV_ASSIGN_OR_RETURN(auto server, ca::HttpServer::Start(http, *responder, [](const std::string&) -> Result<Bytes> {
                        return NotFoundError("no CRL");
                      }));
  CV_ASSIGN_OR_RETURN(Bytes cached, RequestFor(leaf.get(), issuing, false));
  CV_ASSIGN_OR_RETURN(Bytes nonce, RequestFor(leaf.get(), issuing, true));
  CV_RETURN_IF_ERROR(CheckOnce(server->port(), cached, issuing, leaf.get()));
  CV_RETURN_IF_ERROR(CheckOnce(server->port(), nonce, issuing, leaf.get()));
  out.push_back({"OCSP/s cached, keep-alive", Load(server->port(), cached, true, o.threads, o.ocsp_seconds), "resp/s",
                 std::to_string(o.threads) + " client threads + " + std::to_string(o.threads) + " server threads"});
  out.push_back({"OCSP/s cached, new connection each", Load(server->port(), cached, false, o.threads, o.ocsp_seconds),
                 "resp/s", "same, TCP connect per request"});
  out.push_back({"OCSP/s with nonce (signed each)", Load(server->port(), nonce, true, o.threads, o.ocsp_seconds),
                 "resp/s", "one C_Sign per response"});
  Result<double> ossl = OpensslResponder(o, o.ocsp_seconds);
  if (!ossl.ok()) return ossl.status();
  if (*ossl <= 0) return UnavailableError("`openssl ocsp -port` answered no request");
  out.push_back({"OCSP/s `openssl ocsp -port` responder", *ossl, "resp/s", "signs every response"});
  return OkStatus();
}

}  // namespace certvault::cabench
