// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// ServerMetrics: counters of `certvault-ca serve` in the Prometheus text
// exposition format (version 0.0.4), served at /metrics:
//   certvault_ca_requests_total{op,code}     every answered request
//   certvault_ca_issued_total{op}            certificates issued
//   certvault_ca_refused_total{op}           4xx answers to EST requests, CMP rejections/errors
//   certvault_ca_request_seconds{op}         latency histogram
//   certvault_ca_tls_handshake_failures_total
// Thread-safe.
#ifndef CERTVAULT_CA_SERVER_METRICS_H_
#define CERTVAULT_CA_SERVER_METRICS_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace certvault::ca {

class ServerMetrics {
 public:
  // Record: one answered request of operation `op` ("simpleenroll",
  // "ocsp", ...) with HTTP status `code` that took `seconds`.
  void Record(const std::string& op, unsigned int code, double seconds, bool issued, bool refused = false);
  // Text: the exposition text; `handshake_failures` is read at call time.
  std::string Text(uint64_t handshake_failures) const;

 private:
  static constexpr std::array<double, 10> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, unsigned int>, uint64_t> requests_;  // guarded by mu_
  std::map<std::string, uint64_t> issued_;                             // guarded by mu_
  std::map<std::string, uint64_t> refused_;                            // guarded by mu_
  std::map<std::string, Histogram> latency_;                           // guarded by mu_
};

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_SERVER_METRICS_H_
