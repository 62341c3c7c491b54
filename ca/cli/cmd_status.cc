// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca status [--json]: the health of what signing depends on that
// is not the database or the token; today the time source (issue 17,
// "Trusted time"): which source, the local clock's offset from it, when it
// was checked, against which bound. The source is asked now (a status
// command is a monitoring probe: a cached answer could hide a dead source).
// Exit 0 when healthy (or no source is configured), 1 otherwise.
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "ca/cli/cli.h"
#include "src/base/sntp.h"
#include "src/base/utc_time.h"

namespace certvault::ca::cli {
namespace {

constexpr int kTimeoutMs = 2000;

struct TimeReport {
  std::string source;  // empty: none configured
  int64_t checked_at = 0;
  int64_t offset_s = 0;
  int64_t bound_s = 0;
  bool ok = true;
  std::string error;
};

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

TimeReport CheckTime(const CaConfig& cfg) {
  TimeReport r;
  r.source = cfg.time_source;
  r.bound_s = cfg.max_clock_skew_seconds;
  r.checked_at = static_cast<int64_t>(std::time(nullptr));
  if (r.source.empty()) return r;
  Result<int64_t> remote = QueryNtpTime(r.source, kTimeoutMs);
  if (!remote.ok()) {
    r.ok = false;
    r.error = std::string(remote.status().message());
    return r;
  }
  r.offset_s = r.checked_at - *remote;
  if (r.offset_s > r.bound_s || -r.offset_s > r.bound_s) {
    r.ok = false;
    r.error = "the clock is " + std::to_string(r.offset_s) + " s away from the source (bound " +
              std::to_string(r.bound_s) + " s): signing is refused";
  }
  return r;
}

void PrintText(const TimeReport& r) {
  if (r.source.empty()) {
    std::printf("time source: none configured (time_source in ca.toml)\nclock: %s\n",
                UtcTimeText(r.checked_at).c_str());
    return;
  }
  std::printf("time source: %s\nchecked: %s\n", r.source.c_str(), UtcTimeText(r.checked_at).c_str());
  if (r.error.empty() || r.offset_s != 0)
    std::printf("offset: %+lld s (bound %lld s)\n", static_cast<long long>(r.offset_s),
                static_cast<long long>(r.bound_s));
  std::printf("time: %s%s%s\n", r.ok ? "ok" : "FAIL", r.ok ? "" : ": ", r.error.c_str());
}

void PrintJson(const TimeReport& r) {
  std::printf("{\"time\":{\"source\":%s,\"ok\":%s,\"checked_at\":%s,\"offset_s\":%lld,\"bound_s\":%lld",
              r.source.empty() ? "null" : JsonString(r.source).c_str(), r.ok ? "true" : "false",
              JsonString(UtcTimeText(r.checked_at)).c_str(), static_cast<long long>(r.offset_s),
              static_cast<long long>(r.bound_s));
  if (!r.error.empty()) std::printf(",\"error\":%s", JsonString(r.error).c_str());
  std::printf("}}\n");
}

}  // namespace

int CmdStatus(Args& args) {
  std::string dir = args.Get("dir");
  if (dir.empty()) {
    const char* env = std::getenv("CERTVAULT_CA_DIR");
    dir = env != nullptr ? env : ".";
  }
  Result<CaConfig> cfg = LoadConfig(dir);
  if (!cfg.ok()) {
    AuditRefusedStart(args, dir, cfg.status());
    return Fail(cfg.status());
  }
  TimeReport report = CheckTime(*cfg);
  if (args.Has("json")) {
    PrintJson(report);
  } else {
    PrintText(report);
  }
  return report.ok ? 0 : 1;
}

}  // namespace certvault::ca::cli
