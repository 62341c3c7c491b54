// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca-bench: issuance, raw P-256 signing, and `openssl ca`.
#include <sys/resource.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "bench/ca/ca_bench.h"
#include "src/base/status_macros.h"

namespace certvault::cabench {
namespace {

// CpuSeconds: user+system time of this process (self) or of its waited-for
// children: on a shared machine, CPU time per certificate is the figure that
// does not depend on what else is running.
double CpuSeconds(int who) {
  struct rusage ru;
  getrusage(who, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

}  // namespace

Status RunIssuance(const Options& o, ca::CaInstance& inst, const std::vector<ca::IssueItem>& csrs,
                   const std::string& label, bool verify, Results& out) {
  CV_ASSIGN_OR_RETURN(ca::CaKey * key, inst.Key(ca::CaRole::kIssuing));
  CV_ASSIGN_OR_RETURN(X509 * cert, inst.Cert(ca::CaRole::kIssuing));
  ca::IssuerOptions opts;
  opts.threads = o.threads;
  opts.verify = verify;
  ca::Issuer issuer(inst.config(), inst.Name(ca::CaRole::kIssuing), *key, cert, inst.db(), "bench", opts);
  auto t0 = std::chrono::steady_clock::now();
  double c0 = CpuSeconds(RUSAGE_SELF);
  CV_ASSIGN_OR_RETURN(std::vector<ca::IssueOutcome> outs, issuer.Issue(csrs, "device"));
  double s = Seconds(t0);
  double cpu = CpuSeconds(RUSAGE_SELF) - c0;
  size_t ok = 0;
  for (const ca::IssueOutcome& r : outs) ok += r.status.ok() ? 1 : 0;
  if (ok != csrs.size()) return InternalError("issuance refused some bench CSRs");
  out.push_back({"issue/s, " + label, ok / s, "certs/s",
                 std::to_string(ok) + " CSRs, " + std::to_string(o.threads) + " threads, group commit per 2048"});
  out.push_back({"  CPU per certificate, " + label, cpu * 1e6 / static_cast<double>(ok), "us",
                 "process CPU time; bound on 2 free cores: 2e6/value certs/s"});
  return OkStatus();
}

namespace {

// Rate: runs `op` on `threads` threads for `seconds`; operations per second.
template <typename Op>
double Rate(uint32_t threads, double seconds, Op op) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> count{0};
  std::vector<std::thread> pool;
  auto t0 = std::chrono::steady_clock::now();
  for (uint32_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) n += op() ? 1 : 0;
      count += n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& t : pool) t.join();
  return static_cast<double>(count.load()) / Seconds(t0);
}

}  // namespace

Status RunRawSign(const Options& o, ca::CaInstance& inst, Results& out) {
  double secs = o.quick ? 0.2 : 2.0;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) return InternalError("EVP_EC_gen");
  uint8_t digest[32] = {1, 2, 3};
  double raw = Rate(o.threads, secs, [&] {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, nullptr);
    uint8_t sig[80];
    size_t len = sizeof(sig);
    bool ok = ctx != nullptr && EVP_PKEY_sign_init(ctx) == 1 && EVP_PKEY_sign(ctx, sig, &len, digest, 32) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
  });
  EVP_PKEY_free(key);
  out.push_back({"raw P-256 sign/s (OpenSSL, in memory)", raw, "sig/s", std::to_string(o.threads) + " threads"});
  CV_ASSIGN_OR_RETURN(ca::CaKey * ca_key, inst.Key(ca::CaRole::kIssuing));
  Bytes tbs(400, 0x5a);
  double token = Rate(o.threads, secs, [&] { return ca_key->Sign(tbs).ok(); });
  out.push_back({"P-256 sign/s via certvault PKCS#11", token, "sig/s", "SHA-256 + C_Sign(CKM_ECDSA)"});
  return OkStatus();
}

Status RunOpensslCa(const Options& o, const std::vector<ca::IssueItem>& csrs, Results& out) {
  std::string d = o.work + "/openssl-ca";
  std::string setup = "mkdir -p " + d + "/newcerts " + d + "/in && touch " + d + "/index.txt && cd " + d +
                      " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key "
                      "-subj /CN=openssl-ca -days 30 -out ca.pem 2>/dev/null";
  if (std::system(setup.c_str()) != 0) return UnavailableError("openssl CLI not usable");
  std::ofstream(d + "/ca.cnf")
      << "[ca]\ndefault_ca = c\n[c]\ndir = " << d << "\ndatabase = $dir/index.txt\nnew_certs_dir = $dir/newcerts\n"
      << "certificate = $dir/ca.pem\nprivate_key = $dir/ca.key\ndefault_md = sha256\ndefault_days = 365\n"
      << "policy = p\nunique_subject = no\nx509_extensions = e\nrand_serial = yes\n[p]\ncommonName = supplied\n"
      << "[e]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n"
      << "extendedKeyUsage = clientAuth\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n"
      << "crlDistributionPoints = URI:http://127.0.0.1:1/crl/full.crl\n"
      << "authorityInfoAccess = OCSP;URI:http://127.0.0.1:1/\n";
  size_t n = std::min(o.openssl_ca_n, csrs.size());
  std::string files;
  for (size_t i = 0; i < n; ++i) {
    CV_ASSIGN_OR_RETURN(std::string pem, x509::PemEncode("CERTIFICATE REQUEST", csrs[i].csr));
    std::string f = d + "/in/" + std::to_string(i) + ".csr";
    std::ofstream(f) << pem;
    files += " " + f;
  }
  std::string cmd = "openssl ca -batch -config " + d + "/ca.cnf -notext -out /dev/null -infiles" + files +
                    " >/dev/null 2>&1";
  auto t0 = std::chrono::steady_clock::now();
  double c0 = CpuSeconds(RUSAGE_CHILDREN);
  if (std::system(cmd.c_str()) != 0) return InternalError("openssl ca failed");
  double s = Seconds(t0);
  double cpu = CpuSeconds(RUSAGE_CHILDREN) - c0;
  out.push_back({"issue/s, `openssl ca` (key file, no fsync)", n / s, "certs/s",
                 std::to_string(n) + " of the same CSRs, one process"});
  out.push_back({"  CPU per certificate, `openssl ca`", cpu * 1e6 / static_cast<double>(n), "us",
                 "child CPU time (single-threaded)"});
  return OkStatus();
}

}  // namespace certvault::cabench
