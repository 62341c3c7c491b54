// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/server/metrics.h"

#include <cstdio>

namespace certvault::ca {
namespace {

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

}  // namespace

void ServerMetrics::Record(const std::string& op, unsigned int code, double seconds, bool issued, bool refused) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{op, code}];
  if (issued) ++issued_[op];
  if ((code >= 400 && code < 500) || refused) ++refused_[op];
  Histogram& h = latency_[op];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

std::string ServerMetrics::Text(uint64_t handshake_failures) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string t = "# HELP certvault_ca_requests_total Requests answered.\n# TYPE certvault_ca_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    t += "certvault_ca_requests_total{op=\"" + key.first + "\",code=\"" + std::to_string(key.second) + "\"} " +
         std::to_string(n) + "\n";
  }
  t += "# HELP certvault_ca_issued_total Certificates issued.\n# TYPE certvault_ca_issued_total counter\n";
  for (const auto& [op, n] : issued_) t += "certvault_ca_issued_total{op=\"" + op + "\"} " + std::to_string(n) + "\n";
  t += "# HELP certvault_ca_refused_total Requests refused (4xx, CMP rejections).\n# TYPE certvault_ca_refused_total counter\n";
  for (const auto& [op, n] : refused_) t += "certvault_ca_refused_total{op=\"" + op + "\"} " + std::to_string(n) + "\n";
  t += "# HELP certvault_ca_request_seconds Request latency.\n# TYPE certvault_ca_request_seconds histogram\n";
  for (const auto& [op, h] : latency_) {
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      t += "certvault_ca_request_seconds_bucket{op=\"" + op + "\",le=\"" + Number(kBuckets[i]) + "\"} " +
           std::to_string(h.buckets[i]) + "\n";
    }
    t += "certvault_ca_request_seconds_bucket{op=\"" + op + "\",le=\"+Inf\"} " + std::to_string(h.count) + "\n";
    t += "certvault_ca_request_seconds_sum{op=\"" + op + "\"} " + Number(h.sum) + "\n";
    t += "certvault_ca_request_seconds_count{op=\"" + op + "\"} " + std::to_string(h.count) + "\n";
  }
  t += "# HELP certvault_ca_tls_handshake_failures_total TLS handshakes that failed.\n"
       "# TYPE certvault_ca_tls_handshake_failures_total counter\n"
       "certvault_ca_tls_handshake_failures_total " + std::to_string(handshake_failures) + "\n";
  return t;
}

}  // namespace certvault::ca
