// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca-bench [--quick] --module PATH [--work DIR] [--issue N] [--revoked N] [--no-postgres]
// Runs every CA scenario in one process and prints one table with the
// targets and the ratios. The work directory (default: a new directory under
// the current one, so that SQLite's fsyncs hit the real disk) is removed at
// the end. Exit 0 when every scenario ran, 1 when one failed, 2 on bad flags.
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>

#include "bench/ca/ca_bench.h"
#include "src/base/status_macros.h"

namespace certvault::cabench {
namespace {

bool ParseFlags(int argc, char** argv, Options& o, bool& postgres) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--quick") {
      o.quick = true;
      o.issue_n = 300;
      o.openssl_ca_n = 100;
      o.revoked_n = 2000;
      o.ocsp_seconds = 0.3;
    } else if (a == "--module" && has_value) {
      o.module = argv[++i];
    } else if (a == "--work" && has_value) {
      o.work = argv[++i];
    } else if (a == "--issue" && has_value) {
      o.issue_n = std::strtoul(argv[++i], nullptr, 10);
    } else if (a == "--revoked" && has_value) {
      o.revoked_n = std::strtoul(argv[++i], nullptr, 10);
    } else if (a == "--no-postgres") {
      postgres = false;
    } else {
      return false;
    }
  }
  return !o.module.empty();
}

void Print(const Results& rows) {
  std::printf("\n%-48s %14s  %-8s %s\n", "scenario", "value", "unit", "notes");
  for (const Result_& r : rows) {
    std::printf("%-48s %14.3f  %-8s %s\n", r.scenario.c_str(), r.value, r.unit.c_str(), r.note.c_str());
  }
}

double Find(const Results& rows, const std::string& prefix) {
  for (const Result_& r : rows) {
    if (r.scenario.rfind(prefix, 0) == 0) return r.value;
  }
  return 0;
}

void PrintRatios(const Results& rows) {
  double issue = Find(rows, "issue/s, certvault + SQLite");
  double pg = Find(rows, "issue/s, certvault + PostgreSQL");
  double raw = Find(rows, "raw P-256 sign/s");
  double ossl_ca = Find(rows, "issue/s, `openssl ca`");
  double ocsp = Find(rows, "OCSP/s cached, keep-alive");
  double ocsp_new = Find(rows, "OCSP/s cached, new connection");
  double ossl_ocsp = Find(rows, "OCSP/s `openssl ocsp");
  double crl = Find(rows, "full CRL of");
  std::printf("\nratios and targets\n");
  std::printf("  issuance (SQLite) / raw P-256 signing  %8.2f\n", raw > 0 ? issue / raw : 0);
  std::printf("  issuance (SQLite) / openssl ca         %8.2f\n", ossl_ca > 0 ? issue / ossl_ca : 0);
  if (pg > 0) std::printf("  issuance (PostgreSQL) / openssl ca     %8.2f\n", ossl_ca > 0 ? pg / ossl_ca : 0);
  std::printf("  OCSP cached / openssl ocsp             %8.2f (keep-alive), %.2f (new connection each)\n",
              ossl_ocsp > 0 ? ocsp / ossl_ocsp : 0, ossl_ocsp > 0 ? ocsp_new / ossl_ocsp : 0);
  double cpu = Find(rows, "  CPU per certificate, certvault + SQLite (durable)");
  double ossl_cpu = Find(rows, "  CPU per certificate, `openssl ca`");
  if (cpu > 0) {
    std::printf("  CPU per certificate: certvault %.0f us, openssl ca %.0f us (ratio %.2f); bound on two free cores: %.0f certs/s\n",
                cpu, ossl_cpu, ossl_cpu > 0 ? ossl_cpu / cpu : 0, 2e6 / cpu);
  }
  double audit_off = Find(rows, "issue/s, certvault + SQLite, audit off");
  double audit_on2 = Find(rows, "issue/s, certvault + SQLite, audit on (again)");
  if (audit_off > 0) {
    double on = (issue + audit_on2) / 2;
    std::printf("  issuance audit on / audit off          %8.2f (mean of the runs before and after; target >= 0.90: %s)\n",
                on / audit_off, on >= 0.9 * audit_off ? "met" : "NOT met");
  }
  std::printf("  target issuance >= 5000/s: %s; full CRL <= 2 s: %s; OCSP >= 10000/s: %s\n",
              issue >= 5000 ? "met" : "NOT met", crl > 0 && crl <= 2.0 ? "met" : "NOT met",
              ocsp >= 10000 ? "met" : "NOT met");
}

int Run(Options& o, bool postgres) {
  if (o.work.empty()) {
    char tmpl[] = "ca-bench.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return 1;
    o.work = std::filesystem::absolute(tmpl).string();
  }
  setenv("CERTVAULT_HOME", (o.work + "/vault").c_str(), 1);
  std::filesystem::create_directories(o.work + "/vault");
  Results rows;
  int failures = 0;
  auto check = [&](const char* what, const Status& st) {
    if (st.ok()) return;
    ++failures;
    std::fprintf(stderr, "scenario %s failed: %s\n", what, std::string(st.message()).c_str());
  };
  Status st = InitToken(o.module, "bench", "bench-so-pin-1234", "bench-pin-1234");
  if (!st.ok()) return std::fprintf(stderr, "token: %s\n", std::string(st.message()).c_str()), 1;
  auto inst = MakeCa(o, o.work + "/sqlite-ca", "sq", "sqlite:" + o.work + "/sqlite-ca/ca.db");
  if (!inst.ok()) return std::fprintf(stderr, "CA: %s\n", std::string(inst.status().message()).c_str()), 1;
  std::fprintf(stderr, "making %zu CSRs...\n", o.issue_n);
  std::vector<ca::IssueItem> csrs = MakeCsrs(o.issue_n, o.threads);
  check("raw sign", RunRawSign(o, **inst, rows));
  check("issuance", RunIssuance(o, **inst, csrs, "certvault + SQLite (durable)", true, rows));
  // Issue 15: the audit chain rides in the same group commit; the same run
  // with no audit records at all is the baseline (target: >= 90% of it).
  (*inst)->db().SetAuditForBenchmark(false);
  check("issuance", RunIssuance(o, **inst, csrs, "certvault + SQLite, audit off", true, rows));
  (*inst)->db().SetAuditForBenchmark(true);
  check("issuance", RunIssuance(o, **inst, csrs, "certvault + SQLite, audit on (again)", true, rows));
  // The same CSRs again (new serials): without the post-sign verification.
  check("issuance", RunIssuance(o, **inst, csrs, "certvault + SQLite, verify_issued=false", false, rows));
  check("openssl ca", RunOpensslCa(o, csrs, rows));
  if (postgres) {
    // Outside the work dir: the server runs as another user, which must be
    // able to reach its directory.
    std::string pg_dir = (std::filesystem::temp_directory_path() / ("cv-bench-pg." + std::to_string(getpid()))).string();
    auto conn = StartPostgres(pg_dir);
    if (conn.ok()) {
      auto pg = MakeCa(o, o.work + "/pg-ca", "pg", *conn);
      check("postgres", pg.ok() ? RunIssuance(o, **pg, csrs, "certvault + PostgreSQL", true, rows) : pg.status());
      StopPostgres(pg_dir);
    } else {
      std::fprintf(stderr, "PostgreSQL scenario skipped: %s\n", std::string(conn.status().message()).c_str());
    }
    std::filesystem::remove_all(pg_dir);
  }
  check("ocsp", RunOcsp(o, **inst, csrs, rows));
  check("revoke/crl", RunRevokeAndCrl(o, **inst, rows));
  Print(rows);
  PrintRatios(rows);
  inst->reset();
  std::filesystem::remove_all(o.work);
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace certvault::cabench

int main(int argc, char** argv) {
  certvault::cabench::Options o;
  bool postgres = true;
  if (!certvault::cabench::ParseFlags(argc, argv, o, postgres)) {
    std::fprintf(stderr,
                 "usage: certvault-ca-bench [--quick] --module PATH [--work DIR] [--issue N] [--revoked N] "
                 "[--no-postgres]\n");
    return 2;
  }
  return certvault::cabench::Run(o, postgres);
}
