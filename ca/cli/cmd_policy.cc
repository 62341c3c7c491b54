// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca policy report [--format md|html]: the key-management policy
// report of the live instance (ca/policy/policy_report.h). Opening the
// instance loads and checks the policy (a contradicting ca.toml fails here as
// everywhere); the database gives the CRL number, certificate count and last
// audit event; the time source is asked now; the self-tests ran before the
// command (RequireSelfTests). No token login: the report signs nothing.
#include <cstdio>
#include <ctime>
#include <string>

#include "ca/cli/cli.h"
#include "ca/policy/policy_report.h"
#include "src/base/sntp.h"
#include "src/selftest/selftest.h"

namespace certvault::ca::cli {
namespace {

constexpr int kTimeoutMs = 2000;

std::string Iso(int64_t t) {
  char buf[32];
  time_t tt = static_cast<time_t>(t);
  struct tm tm_v {};
  gmtime_r(&tt, &tm_v);
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm_v);
  return buf;
}

std::string TimeOffset(const CaConfig& cfg, int64_t now) {
  if (cfg.time_source.empty()) return "";
  Result<int64_t> remote = QueryNtpTime(cfg.time_source, kTimeoutMs);
  if (!remote.ok()) return "FAIL: " + std::string(remote.status().message());
  int64_t offset = now - *remote;
  bool ok = offset <= static_cast<int64_t>(cfg.max_clock_skew_seconds) &&
            -offset <= static_cast<int64_t>(cfg.max_clock_skew_seconds);
  return std::string(ok ? "ok: " : "FAIL: ") + (offset >= 0 ? "+" : "") + std::to_string(offset) + " s from " +
         cfg.time_source;
}

LiveStatus Measure(CaInstance& inst) {
  LiveStatus live;
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  live.generated_at = Iso(now);
  live.selftest = selftest::InErrorState() ? "FAIL: error state"
                                           : "passed (" + std::to_string(selftest::TestNames().size()) +
                                                 " tests, at the start of this command)";
  live.time_offset = TimeOffset(inst.config(), now);
  std::string issuing = inst.Name(CaRole::kIssuing);
  if (auto crl = inst.db().LatestCrl(issuing, false, 0); crl.ok()) live.crl_number = std::to_string(crl->number);
  if (auto n = inst.db().CountCertificates(issuing); n.ok()) live.certificates = std::to_string(*n);
  if (auto events = inst.db().ListAudit(1); events.ok() && !events->empty()) {
    const AuditEvent& e = events->front();
    live.last_audit = "last: " + e.action + " by " + e.actor + " at " + Iso(e.at);
  }
  // The chain as `audit verify` checks it (issue 17: the audit-verify result).
  if (Result<AuditVerifyReport> chain = inst.VerifyAudit("", ""); !chain.ok()) {
    live.audit_verify = "cannot check: " + std::string(chain.status().message());
  } else if (!chain->ok) {
    live.audit_verify = "BROKEN at seq " + std::to_string(chain->first_bad_seq) + ": " + chain->problem;
  } else {
    live.audit_verify = "ok (" + std::to_string(chain->records) + " records, " + std::to_string(chain->checkpoints) +
                        " signed checkpoints)";
  }
  return live;
}

}  // namespace

int CmdPolicyReport(Args& args) {
  std::string format = args.Get("format", "md");
  if (format != "md" && format != "html") return Usage("policy report: --format must be md or html");
  Result<std::unique_ptr<CaInstance>> inst = Open(args, false);
  if (!inst.ok()) return Fail(inst.status());
  PolicyReport report = BuildReport((*inst)->config(), Measure(**inst));
  std::string text = format == "html" ? RenderHtml(report) : RenderMarkdown(report);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace certvault::ca::cli
