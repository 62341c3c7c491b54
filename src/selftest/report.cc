// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/selftest/report.h"

#include <cstdio>

namespace certvault::selftest {
namespace {

std::string Millis(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", ms);
  return buf;
}

// JsonString: a JSON string literal (messages are ours, but escape anyway).
std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

}  // namespace

bool AllPassed(const std::vector<TestResult>& results) {
  for (const TestResult& r : results) {
    if (!r.status.ok()) return false;
  }
  return true;
}

std::string FormatReport(const std::vector<TestResult>& results, bool json) {
  double total = 0;
  for (const TestResult& r : results) total += r.millis;
  std::string out;
  if (json) {
    out = "{\"ok\":" + std::string(AllPassed(results) ? "true" : "false") + ",\"total_ms\":" + Millis(total) +
          ",\"tests\":[";
    for (size_t i = 0; i < results.size(); ++i) {
      const TestResult& r = results[i];
      out += (i == 0 ? "" : ",") + std::string("{\"name\":") + JsonString(r.name) +
             ",\"ok\":" + (r.status.ok() ? "true" : "false") + ",\"ms\":" + Millis(r.millis);
      if (!r.status.ok()) out += ",\"error\":" + JsonString(r.status.message());
      out += "}";
    }
    return out + "]}\n";
  }
  size_t failed = 0;
  for (const TestResult& r : results) {
    failed += r.status.ok() ? 0 : 1;
    out += (r.status.ok() ? "PASS  " : "FAIL  ") + r.name + "  " +
           (r.status.ok() ? Millis(r.millis) + " ms" : std::string(r.status.message())) + "\n";
  }
  out += std::to_string(results.size() - failed) + " passed, " + std::to_string(failed) + " failed (" +
         Millis(total) + " ms)\n";
  return out;
}

}  // namespace certvault::selftest
