// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca-bench: the CA's performance targets, measured side by side in
// one run (see bench/README.md, "certvault-ca-bench"):
//   issuance/s (P-256 CA key in certvault, durable SQLite; PostgreSQL) next to
//   the raw P-256 signing rate and `openssl ca` on the same CSRs; revoke
//   latency as the revoked population grows to 1,000,000; a full CRL of
//   1,000,000 entries; OCSP responses/s for cached statuses next to the
//   `openssl ocsp` responder.
#ifndef CERTVAULT_BENCH_CA_CA_BENCH_H_
#define CERTVAULT_BENCH_CA_CA_BENCH_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ca/instance/ca_instance.h"
#include "ca/issuance/issuer.h"

namespace certvault::cabench {

struct Options {
  bool quick = false;
  std::string module;          // certvault's PKCS#11 module
  std::string work;            // temp dir (on the disk under test)
  size_t issue_n = 20000;
  size_t openssl_ca_n = 2000;
  size_t revoked_n = 1000000;
  double ocsp_seconds = 3.0;
  uint32_t threads = 2;
};

struct Result_ {
  std::string scenario;
  double value = 0;
  std::string unit;
  std::string note;
};
using Results = std::vector<Result_>;

inline double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// InitCertvaultToken: C_InitToken + C_InitPIN on the module's first slot.
Status InitToken(const std::string& module, const std::string& label, const std::string& so_pin,
                 const std::string& pin);
// MakeCa: DIR/ca.toml for `name` and `database`, then init (keys in the token).
Result<std::unique_ptr<ca::CaInstance>> MakeCa(const Options& o, const std::string& dir, const std::string& name,
                                               const std::string& database);
// MakeCsrs: n DER CSRs (fresh P-256 keys), made on `threads` threads.
std::vector<ca::IssueItem> MakeCsrs(size_t n, uint32_t threads);

// Scenarios append their rows to `out`.
Status RunIssuance(const Options& o, ca::CaInstance& inst, const std::vector<ca::IssueItem>& csrs,
                   const std::string& label, bool verify, Results& out);
Status RunRawSign(const Options& o, ca::CaInstance& inst, Results& out);
Status RunOpensslCa(const Options& o, const std::vector<ca::IssueItem>& csrs, Results& out);
Status RunRevokeAndCrl(const Options& o, ca::CaInstance& inst, Results& out);
Status RunOcsp(const Options& o, ca::CaInstance& inst, const std::vector<ca::IssueItem>& csrs, Results& out);
// StartPostgres: a private server in DIR; the conninfo, or an error when the
// binaries are missing. StopPostgres ends it.
Result<std::string> StartPostgres(const std::string& dir);
void StopPostgres(const std::string& dir);

}  // namespace certvault::cabench

#endif  // CERTVAULT_BENCH_CA_CA_BENCH_H_
