// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-est-load: an EST simpleenroll load client for bench/est/est_bench.sh.
// It makes N P-256 CSRs first (untimed), then sends them over C TLS
// connections (one thread each, HTTP/1.1 keep-alive, client certificate),
// and prints the rate and latency percentiles. With --write-csrs DIR it only
// writes the CSRs as PEM files (the CLI batch issuance of the same run).
//   certvault-est-load --port P --cacert F --cert F --key F --path /.well-known/est/device/simpleenroll
//                      [--requests N] [--connections C] [--new-connection]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
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

// Exchange: one request; true on "HTTP/1.1 200". Reads exactly the response.
bool Exchange(SSL* ssl, const std::string& request) {
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
  return in.compare(0, 12, "HTTP/1.1 200") == 0;
}

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

void Run(SSL_CTX* ctx, int port, const std::vector<std::string>& requests, size_t begin, size_t end, bool reconnect,
         Worker& w) {
  int fd = -1;
  SSL* ssl = nullptr;
  for (size_t i = begin; i < end; ++i) {
    auto t0 = Clock::now();
    if (ssl == nullptr) ssl = Open(ctx, port, &fd);
    bool ok = ssl != nullptr && Exchange(ssl, requests[i]);
    w.latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!ok) ++w.failures;
    if ((!ok || reconnect) && ssl != nullptr) {
      SSL_shutdown(ssl);
      SSL_free(ssl);
      close(fd);
      ssl = nullptr;
    }
  }
  if (ssl != nullptr) {
    SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
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
  for (int i = 1; i + 1 < argc; i += 2) o.v[std::string(argv[i]).substr(2)] = argv[i + 1];
  bool reconnect = false;
  for (int i = 1; i < argc; ++i) reconnect |= std::strcmp(argv[i], "--new-connection") == 0;
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
    X509_REQ* req = certvault::bench::MakeDeviceCsr("d", i, nullptr);
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
  double cpu0 = CpuSeconds();  // the load's own CPU, without making the CSRs
  auto t0 = Clock::now();
  for (int c = 0; c < conns; ++c) {
    size_t begin = static_cast<size_t>(n) * c / conns, end = static_cast<size_t>(n) * (c + 1) / conns;
    threads.emplace_back(Run, ctx, port, std::cref(requests), begin, end, reconnect, std::ref(workers[c]));
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
  std::printf("requests=%d failures=%d seconds=%.3f rate=%.1f/s p50_ms=%.2f p99_ms=%.2f client_cpu_s=%.2f\n", n,
              failures, secs, n / secs, pct(0.5), pct(0.99), cpu);
  SSL_CTX_free(ctx);
  return failures == 0 ? 0 : 1;
}
