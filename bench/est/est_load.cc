// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-est-load: an EST simpleenroll load client for bench/est/est_bench.sh.
// It makes N P-256 CSRs first (untimed), then sends them over C TLS
// connections (one thread each, HTTP/1.1 keep-alive, client certificate),
// and prints the rate and latency percentiles. With --write-csrs DIR it only
// writes the CSRs as PEM files (the CLI batch issuance of the same run).
//   certvault-est-load --port P --cacert F --cert F --key F --path /.well-known/est/device/simpleenroll
//                      [--requests N] [--connections C] [--new-connection]
//                      [--rate R] [--serials FILE] [--prefix P]
// --rate R: open loop. Request i is due at start + i/R whatever the answers
// do; C threads take the requests in order (with --new-connection each with
// a full mutual-TLS handshake, else over the thread's keep-alive
// connection), and a request's latency counts from its due time (a late
// start because every thread was busy is latency too: no coordinated
// omission).
// It prints the offered and achieved rate and the percentiles.
// --serials FILE: each issued certificate's serial (hex) is appended to FILE
// as soon as its answer arrived (one line, flushed): what a client received
// (the kill -9 test of tests/ca/ca_pg_serve_test.sh).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include <sys/resource.h>
#include <vector>

#include "bench/est/device_csr.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string Base64(const std::vector<unsigned char>& der) {
  std::string out(4 * ((der.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), der.data(), static_cast<int>(der.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

struct Options {
  std::map<std::string, std::string> v;
  std::string Get(const std::string& k, const std::string& d = "") const {
    auto it = v.find(k);
    return it == v.end() ? d : it->second;
  }
};

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// Exchange: one request; true on "HTTP/1.1 200". Reads exactly the response;
// its body goes to `body` if given.
bool Exchange(SSL* ssl, const std::string& request, std::string* body = nullptr) {
  if (SSL_write(ssl, request.data(), static_cast<int>(request.size())) <= 0) return false;
  std::string in;
  char buf[8192];
  size_t header_end = std::string::npos;
  while (header_end == std::string::npos) {
    int n = SSL_read(ssl, buf, sizeof(buf));
    if (n <= 0) return false;
    in.append(buf, static_cast<size_t>(n));
    header_end = in.find("\r\n\r\n");
  }
  size_t len = 0;
  std::string lower = in.substr(0, header_end);
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  size_t cl = lower.find("content-length:");
  if (cl != std::string::npos) len = std::strtoul(lower.c_str() + cl + 15, nullptr, 10);
  while (in.size() < header_end + 4 + len) {
    int n = SSL_read(ssl, buf, sizeof(buf));
    if (n <= 0) return false;
    in.append(buf, static_cast<size_t>(n));
  }
  if (body != nullptr) *body = in.substr(header_end + 4, len);
  return in.compare(0, 12, "HTTP/1.1 200") == 0;
}

// SerialSink: --serials FILE, one line per issued certificate, flushed at once.
class SerialSink {
 public:
  explicit SerialSink(const std::string& path) : f_(path.empty() ? nullptr : std::fopen(path.c_str(), "a")) {}
  ~SerialSink() {
    if (f_ != nullptr) std::fclose(f_);
  }
  bool enabled() const { return f_ != nullptr; }
  // Record: the serial of the first certificate of a base64 certs-only answer.
  void Record(const std::string& base64) {
    std::vector<unsigned char> der(base64.size());
    int n = EVP_DecodeBlock(der.data(), reinterpret_cast<const unsigned char*>(base64.data()),
                            static_cast<int>(base64.size()));
    if (n <= 0) return;
    const unsigned char* p = der.data();
    PKCS7* p7 = d2i_PKCS7(nullptr, &p, n);
    if (p7 != nullptr && PKCS7_type_is_signed(p7) && p7->d.sign->cert != nullptr && sk_X509_num(p7->d.sign->cert) > 0) {
      BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(sk_X509_value(p7->d.sign->cert, 0)), nullptr);
      char* hex = bn != nullptr ? BN_bn2hex(bn) : nullptr;
      if (hex != nullptr) {
        std::lock_guard<std::mutex> lock(mu_);
        std::fprintf(f_, "%s\n", hex);
        std::fflush(f_);
      }
      OPENSSL_free(hex);
      BN_free(bn);
    }
    PKCS7_free(p7);
  }

 private:
  std::mutex mu_;
  FILE* f_;
};

struct Worker {
  std::vector<double> latencies_ms;
  int failures = 0;
};

SSL* Open(SSL_CTX* ctx, int port, int* fd) {
  *fd = Connect(port);
  if (*fd < 0) return nullptr;
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, *fd);
  if (SSL_connect(ssl) != 1) {
    SSL_free(ssl);
    close(*fd);
    return nullptr;
  }
  return ssl;
}

// Conn: a worker's TLS connection, opened on first use; closed after a
// failure, and after every request with `reconnect` (a full handshake each).
class Conn {
 public:
  Conn(SSL_CTX* ctx, int port, bool reconnect) : ctx_(ctx), port_(port), reconnect_(reconnect) {}
  ~Conn() { Close(); }
  // Send: one request and its answer body; false on any failure.
  bool Send(const std::string& request, std::string* body) {
    if (ssl_ == nullptr) ssl_ = Open(ctx_, port_, &fd_);
    bool ok = ssl_ != nullptr && Exchange(ssl_, request, body);
    if (!ok || reconnect_) Close();
    return ok;
  }

 private:
  void Close() {
    if (ssl_ == nullptr) return;
    SSL_shutdown(ssl_);
    SSL_free(ssl_);
    close(fd_);
    ssl_ = nullptr;
  }
  SSL_CTX* ctx_;
  int port_;
  bool reconnect_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
};

void Run(SSL_CTX* ctx, int port, const std::vector<std::string>& requests, size_t begin, size_t end, bool reconnect,
         SerialSink* sink, Worker& w) {
  Conn conn(ctx, port, reconnect);
  std::string body;
  for (size_t i = begin; i < end; ++i) {
    auto t0 = Clock::now();
    bool ok = conn.Send(requests[i], &body);
    if (ok && sink->enabled()) sink->Record(body);
    w.latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!ok) ++w.failures;
  }
}

// OpenLoop: request i is due at `start` + i / `rate`; each thread takes the
// next request, waits for its due time, and sends it: over a new connection
// (full handshake) with `reconnect`, else over the thread's keep-alive
// connection. Latency counts from the due time.
void OpenLoop(SSL_CTX* ctx, int port, const std::vector<std::string>& requests, Clock::time_point start, double rate,
              bool reconnect, std::atomic<size_t>* next, SerialSink* sink, Worker& w) {
  Conn conn(ctx, port, reconnect);
  std::string body;
  for (size_t i = (*next)++; i < requests.size(); i = (*next)++) {
    auto due = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(i / rate));
    std::this_thread::sleep_until(due);
    bool ok = conn.Send(requests[i], &body);
    w.latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - due).count());
    if (ok && sink->enabled()) sink->Record(body);
    if (!ok) ++w.failures;
  }
}

int WriteCsrs(const std::string& dir, int n) {
  for (int i = 0; i < n; ++i) {
    X509_REQ* req = certvault::bench::MakeDeviceCsr("d", i, nullptr);
    std::string path = dir + "/" + std::to_string(i) + ".pem";
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr || PEM_write_X509_REQ(f, req) != 1) return 1;
    std::fclose(f);
    X509_REQ_free(req);
  }
  return 0;
}

// CpuSeconds: this process's user + system CPU time so far.
double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bool reconnect = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--new-connection") == 0) {
      reconnect = true;
    } else if (i + 1 < argc) {
      o.v[std::string(argv[i]).substr(2)] = argv[i + 1];
      ++i;
    }
  }
  int n = std::atoi(o.Get("requests", "2000").c_str());
  if (!o.Get("write-csrs").empty()) return WriteCsrs(o.Get("write-csrs"), n);
  int conns = std::max(1, std::atoi(o.Get("connections", "8").c_str()));
  int port = std::atoi(o.Get("port").c_str());
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_load_verify_file(ctx, o.Get("cacert").c_str()) != 1 ||
      SSL_CTX_use_certificate_file(ctx, o.Get("cert").c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, o.Get("key").c_str(), SSL_FILETYPE_PEM) != 1) {
    std::fprintf(stderr, "est-load: cannot load the TLS files\n");
    return 2;
  }
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);  // --new-connection: full handshakes
  std::vector<std::string> requests;
  for (int i = 0; i < n; ++i) {
    X509_REQ* req = certvault::bench::MakeDeviceCsr(o.Get("prefix", "d"), i, nullptr);
    int len = i2d_X509_REQ(req, nullptr);
    std::vector<unsigned char> der(static_cast<size_t>(len));
    unsigned char* p = der.data();
    i2d_X509_REQ(req, &p);
    X509_REQ_free(req);
    std::string body = Base64(der);
    requests.push_back("POST " + o.Get("path") + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/pkcs10\r\n"
                       "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  }
  std::vector<Worker> workers(static_cast<size_t>(conns));
  std::vector<std::thread> threads;
  SerialSink sink(o.Get("serials"));
  double rate = std::atof(o.Get("rate", "0").c_str());
  std::atomic<size_t> next{0};
  double cpu0 = CpuSeconds();  // the load's own CPU, without making the CSRs
  auto t0 = Clock::now();
  for (int c = 0; c < conns; ++c) {
    size_t begin = static_cast<size_t>(n) * c / conns, end = static_cast<size_t>(n) * (c + 1) / conns;
    if (rate > 0) {
      threads.emplace_back(OpenLoop, ctx, port, std::cref(requests), t0, rate, reconnect, &next, &sink,
                           std::ref(workers[c]));
    } else {
      threads.emplace_back(Run, ctx, port, std::cref(requests), begin, end, reconnect, &sink, std::ref(workers[c]));
    }
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<double> all;
  int failures = 0;
  for (auto& w : workers) {
    all.insert(all.end(), w.latencies_ms.begin(), w.latencies_ms.end());
    failures += w.failures;
  }
  std::sort(all.begin(), all.end());
  auto pct = [&all](double q) { return all.empty() ? 0 : all[std::min(all.size() - 1, static_cast<size_t>(q * all.size()))]; };
  double cpu = CpuSeconds() - cpu0;
  if (rate > 0) std::printf("offered=%.1f/s ", rate);
  std::printf("requests=%d failures=%d seconds=%.3f rate=%.1f/s p50_ms=%.2f p99_ms=%.2f max_ms=%.2f client_cpu_s=%.2f\n",
              n, failures, secs, n / secs, pct(0.5), pct(0.99), all.empty() ? 0 : all.back(), cpu);
  SSL_CTX_free(ctx);
  return failures == 0 ? 0 : 1;
}
