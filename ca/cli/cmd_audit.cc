// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca audit verify [--from-checkpoint F] [--key PEM]
// certvault-ca audit export [--since T]
// (docs/design/ca.md "Audit trail", docs/formats/ca-audit.md).
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include "ca/audit/audit_alert.h"
#include "ca/cli/cli.h"
#include "ca/db/audit_chain.h"
#include "src/base/status_macros.h"

namespace certvault::ca::cli {

Result<int64_t> ParseSince(const std::string& text) {
  if (text.empty()) return 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);  // NOLINT(runtime/int)
  if (*end == '\0' && v >= 0) return static_cast<int64_t>(v);
  std::tm tm{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (rest == nullptr || *rest != '\0') {
    return InvalidArgumentError("--since: seconds since the epoch or YYYY-MM-DDTHH:MM:SSZ");
  }
  return static_cast<int64_t>(timegm(&tm));
}

int CmdAuditVerify(Args& args) {
  auto inst = Open(args, false);
  if (!inst.ok()) return Fail(inst.status());
  std::string line;
  if (args.Has("from-checkpoint")) {
    std::ifstream in(args.Get("from-checkpoint"));
    if (!in) return Fail(NotFoundError("cannot read " + args.Get("from-checkpoint")));
    std::string l;
    while (std::getline(in, l)) {
      if (l.find("seq=") != std::string::npos) line = l;  // the newest line of a journal extract
    }
    if (line.empty()) return Fail(InvalidArgumentError("no checkpoint line in " + args.Get("from-checkpoint")));
  }
  auto report = (*inst)->VerifyAudit(args.Get("key"), line);
  if (!report.ok()) return Fail(report.status());
  if (!report->ok) {
    std::fprintf(stdout, "audit chain BROKEN at seq %lld: %s\n", static_cast<long long>(report->first_bad_seq),  // NOLINT
                 report->problem.c_str());
    return 1;
  }
  std::fprintf(stdout, "audit chain ok: %lld records (seq %lld), %lld signed checkpoints", static_cast<long long>(report->records),  // NOLINT
               static_cast<long long>(report->last_seq), static_cast<long long>(report->checkpoints));  // NOLINT
  if (report->legacy_rows > 0) std::fprintf(stdout, ", %lld older records not chained", static_cast<long long>(report->legacy_rows));  // NOLINT
  std::fprintf(stdout, "\n");
  return 0;
}

int CmdAuditExport(Args& args) {
  auto since = ParseSince(args.Get("since"));
  if (!since.ok()) return Usage(std::string(since.status().message()));
  auto inst = Open(args, false);
  if (!inst.ok()) return Fail(inst.status());
  int64_t n = 0;
  Status st = (*inst)->db().ReadAuditChain(1, *since, [&](const AuditEvent& e) {
    std::string out = AuditRecordJson(e) + "\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    ++n;
    return OkStatus();
  });
  if (!st.ok()) return Fail(st);
  AuditActor actor = ActorOf(args);
  actor.role = "offline";
  st = (*inst)->db().AddAudit(MakeAuditEvent(actor, "audit-export", (*inst)->config().name, "audit",
                                             "since=" + std::to_string(*since) + " records=" + std::to_string(n)));
  return st.ok() ? 0 : Fail(st);
}

}  // namespace certvault::ca::cli
