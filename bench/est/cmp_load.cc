// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-cmp-load: a CMP p10cr load client for bench/est/cmp_bench.sh,
// on OpenSSL's CMP client API. It makes N P-256 CSRs first (untimed), then
// runs C threads, each sending its share as p10cr transactions (signature
// protection with --cert/--key, implicitConfirm; OpenSSL 3.0's client makes
// one HTTP connection per transaction) to host:port/path, and prints the
// rate and latency percentiles. The same load runs against certvault-ca
// serve and against `openssl cmp -port` (OpenSSL's mock server).
//   certvault-cmp-load --port P --path .well-known/cmp/p/device --trusted F --cert F --key F
//                      [--untrusted F] [--csr-key F] [--requests N] [--connections C]
#include <openssl/cmp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "bench/est/device_csr.h"

namespace {

using Clock = std::chrono::steady_clock;

template <typename T>
T* ReadPem(const std::string& path, T* (*read)(FILE*, T**, pem_password_cb*, void*)) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return nullptr;
  T* out = read(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return out;
}

int Quiet(const char*, const char*, int, OSSL_CMP_severity, const char*) { return 1; }

struct Setup {
  int port = 0;
  std::string path, trusted, untrusted, cert, key;
};

// One p10cr transaction; true when a certificate came back.
bool Enroll(const Setup& s, X509* cert, EVP_PKEY* key, X509* anchor, STACK_OF(X509) * untrusted, X509_REQ* csr) {
  OSSL_CMP_CTX* ctx = OSSL_CMP_CTX_new(nullptr, nullptr);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, anchor);
  bool ok = ctx != nullptr && OSSL_CMP_CTX_set_log_cb(ctx, Quiet) == 1 &&
            OSSL_CMP_CTX_set1_server(ctx, "127.0.0.1") == 1 && OSSL_CMP_CTX_set_serverPort(ctx, s.port) == 1 &&
            OSSL_CMP_CTX_set1_serverPath(ctx, s.path.c_str()) == 1 && OSSL_CMP_CTX_set0_trustedStore(ctx, store) == 1 &&
            (untrusted == nullptr || OSSL_CMP_CTX_set1_untrusted(ctx, untrusted) == 1) &&
            OSSL_CMP_CTX_set1_cert(ctx, cert) == 1 && OSSL_CMP_CTX_set1_pkey(ctx, key) == 1 &&
            OSSL_CMP_CTX_set1_p10CSR(ctx, csr) == 1 &&
            OSSL_CMP_CTX_set_option(ctx, OSSL_CMP_OPT_IMPLICIT_CONFIRM, 1) == 1 &&
            OSSL_CMP_exec_certreq(ctx, OSSL_CMP_P10CR, nullptr) != nullptr;
  OSSL_CMP_CTX_free(ctx);  // frees the store
  ERR_clear_error();
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> opt;
  for (int i = 1; i + 1 < argc; i += 2) opt[argv[i]] = argv[i + 1];
  Setup s{std::atoi(opt["--port"].c_str()),
          opt["--path"],
          opt["--trusted"],
          opt["--untrusted"],
          opt["--cert"],
          opt["--key"]};
  int n = opt.count("--requests") ? std::atoi(opt["--requests"].c_str()) : 200;
  int conns = opt.count("--connections") ? std::atoi(opt["--connections"].c_str()) : 4;
  X509* cert = ReadPem<X509>(s.cert, PEM_read_X509);
  EVP_PKEY* key = ReadPem<EVP_PKEY>(s.key, PEM_read_PrivateKey);
  X509* anchor = ReadPem<X509>(s.trusted, PEM_read_X509);
  STACK_OF(X509)* untrusted = nullptr;
  if (!s.untrusted.empty()) {
    untrusted = sk_X509_new_null();
    FILE* f = std::fopen(s.untrusted.c_str(), "r");
    for (X509* c; f != nullptr && (c = PEM_read_X509(f, nullptr, nullptr, nullptr)) != nullptr;)
      sk_X509_push(untrusted, c);
    if (f != nullptr) std::fclose(f);
  }
  if (cert == nullptr || key == nullptr || anchor == nullptr || s.port == 0 || n <= 0 || conns <= 0) {
    std::fprintf(stderr,
                 "cmp-load: usage: --port P --path P --trusted F --cert F --key F [--untrusted F] "
                 "[--requests N] [--connections C]\n");
    return 2;
  }
  std::vector<X509_REQ*> csrs;
  EVP_PKEY* csr_key = opt.count("--csr-key") ? ReadPem<EVP_PKEY>(opt["--csr-key"], PEM_read_PrivateKey) : nullptr;
  for (int i = 0; i < n; ++i) csrs.push_back(certvault::bench::MakeDeviceCsr("c", i, csr_key));
  EVP_PKEY_free(csr_key);
  std::vector<double> lat(static_cast<size_t>(n));
  std::atomic<int> next{0}, failures{0};
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  auto t0 = Clock::now();
  std::vector<std::thread> pool;
  for (int c = 0; c < conns; ++c) {
    pool.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        auto a = Clock::now();
        if (!Enroll(s, cert, key, anchor, untrusted, csrs[static_cast<size_t>(i)])) ++failures;
        lat[static_cast<size_t>(i)] = std::chrono::duration<double, std::milli>(Clock::now() - a).count();
      }
    });
  }
  for (std::thread& t : pool) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  auto cpu = [](const rusage& r) {
    return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
  };
  std::sort(lat.begin(), lat.end());
  std::printf("requests=%d failures=%d seconds=%.3f rate=%.1f/s p50_ms=%.2f p99_ms=%.2f client_cpu_s=%.2f\n", n,
              failures.load(), secs, n / secs, lat[lat.size() / 2],
              lat[std::min(lat.size() - 1, lat.size() * 99 / 100)], cpu(after) - cpu(before));
  for (X509_REQ* r : csrs) X509_REQ_free(r);
  sk_X509_pop_free(untrusted, X509_free);
  X509_free(cert);
  X509_free(anchor);
  EVP_PKEY_free(key);
  return failures.load() == 0 ? 0 : 1;
}
