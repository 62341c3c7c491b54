// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca-bench: revoke latency as the revoked population grows, and
// the full CRL over it. The population is bulk-loaded through CertDb (one
// transaction per 10,000); the measured revocations are single durable
// transactions, as `certvault-ca revoke SERIAL` does.
#include <algorithm>
#include <cstdio>
#include <ctime>

#include "bench/ca/ca_bench.h"
#include "ca/crl/crl_service.h"
#include "src/base/status_macros.h"

namespace certvault::cabench {
namespace {

constexpr size_t kChunk = 10000;
constexpr size_t kProbes = 200;

Result<std::vector<std::string>> Fill(ca::CertDb& db, const std::string& ca_name, size_t n, size_t& counter) {
  std::vector<std::string> serials;
  int64_t now = std::time(nullptr);
  for (size_t done = 0; done < n;) {
    std::vector<ca::CertRecord> recs;
    for (size_t i = 0; i < kChunk && done < n; ++i, ++done) {
      CV_ASSIGN_OR_RETURN(ca::Serial s, ca::NewSerial());
      recs.push_back({ca_name, s.Hex(), "/CN=fill-" + std::to_string(counter++), "device", now, now + 86400 * 365,
                      Bytes(16, 0x30)});
    }
    std::vector<bool> inserted;
    CV_RETURN_IF_ERROR(db.InsertCertificates(recs, "bench", inserted));
    for (size_t i = 0; i < recs.size(); ++i) {
      if (inserted[i]) serials.push_back(recs[i].serial);
    }
  }
  return serials;
}

Status RevokeAll(ca::CertDb& db, const std::string& ca_name, const std::vector<std::string>& serials) {
  int64_t now = std::time(nullptr);
  for (size_t i = 0; i < serials.size(); i += kChunk) {
    std::vector<ca::Revocation> revs;
    for (size_t j = i; j < std::min(serials.size(), i + kChunk); ++j) revs.push_back({serials[j], 4, 0});
    CV_RETURN_IF_ERROR(db.Revoke(ca_name, revs, now, "bench"));
  }
  return OkStatus();
}

double CpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

struct Probe {
  double median_ms;  // wall time per durable revoke (includes the fsync)
  double cpu_us;     // CPU time per revoke (the part the data structures decide)
};

Result<Probe> ProbeRevoke(ca::CertDb& db, const std::string& ca_name, size_t& counter) {
  CV_ASSIGN_OR_RETURN(std::vector<std::string> probes, Fill(db, ca_name, kProbes, counter));
  std::vector<double> ms;
  double c0 = CpuSeconds();
  for (const std::string& s : probes) {
    ca::Revocation r{s, 1, 0};
    auto t0 = std::chrono::steady_clock::now();
    CV_RETURN_IF_ERROR(db.Revoke(ca_name, std::span<const ca::Revocation>(&r, 1), std::time(nullptr), "bench"));
    ms.push_back(Seconds(t0) * 1000.0);
  }
  double cpu = (CpuSeconds() - c0) * 1e6 / static_cast<double>(probes.size());
  std::sort(ms.begin(), ms.end());
  return Probe{ms[ms.size() / 2], cpu};
}

}  // namespace

Status RunRevokeAndCrl(const Options& o, ca::CaInstance& inst, Results& out) {
  ca::CertDb& db = inst.db();
  std::string name = inst.Name(ca::CaRole::kIssuing);
  std::vector<size_t> levels = {0, o.revoked_n / 10, o.revoked_n};
  size_t counter = 0, revoked = 0;
  for (size_t level : levels) {
    if (level > revoked) {
      auto t0 = std::chrono::steady_clock::now();
      CV_ASSIGN_OR_RETURN(std::vector<std::string> fill, Fill(db, name, level - revoked, counter));
      CV_RETURN_IF_ERROR(RevokeAll(db, name, fill));
      std::fprintf(stderr, "  bulk-loaded %zu revoked certificates in %.1f s\n", fill.size(), Seconds(t0));
      revoked = level;
    }
    CV_ASSIGN_OR_RETURN(Probe probe, ProbeRevoke(db, name, counter));
    revoked += kProbes;
    char note[96];
    std::snprintf(note, sizeof(note), "median of %zu durable revokes; CPU %.0f us each", kProbes, probe.cpu_us);
    out.push_back({"revoke latency at " + std::to_string(revoked) + " revoked", probe.median_ms, "ms", note});
  }
  CV_ASSIGN_OR_RETURN(ca::CaKey * key, inst.Key(ca::CaRole::kIssuing));
  CV_ASSIGN_OR_RETURN(X509 * cert, inst.Cert(ca::CaRole::kIssuing));
  ca::CrlRequest req{name, cert, false, 0, 1, 168, "", "", 0};
  auto t0 = std::chrono::steady_clock::now();
  CV_ASSIGN_OR_RETURN(ca::CrlRecord crl, ca::GenerateCrl(db, *key, req, "bench"));
  double s = Seconds(t0);
  // Re-parse with OpenSSL to prove the DER (not timed).
  const uint8_t* p = crl.der.data();
  X509_CRL* parsed = d2i_X509_CRL(nullptr, &p, static_cast<long>(crl.der.size()));  // NOLINT(runtime/int)
  size_t entries = parsed != nullptr ? static_cast<size_t>(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(parsed))) : 0;
  bool valid = parsed != nullptr && X509_CRL_verify(parsed, key->public_key()) == 1;
  X509_CRL_free(parsed);
  if (!valid) return InternalError("the generated CRL does not parse or verify");
  out.push_back({"full CRL of " + std::to_string(entries) + " entries", s, "s",
                 "read + DER + sign + store; " + std::to_string(crl.der.size() / 1024) + " KiB, verified by OpenSSL"});
  return OkStatus();
}

}  // namespace certvault::cabench
