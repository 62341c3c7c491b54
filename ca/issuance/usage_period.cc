// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/issuance/usage_period.h"

#include <openssl/asn1.h>

#include <ctime>
#include <string>

namespace certvault::ca {
namespace {

std::string Date(int64_t t) {
  char buf[32];
  time_t tt = static_cast<time_t>(t);
  struct tm tm_v {};
  gmtime_r(&tt, &tm_v);
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm_v);
  return buf;
}

}  // namespace

Status CheckIssuingKeyUsage(const CaConfig& config, X509* issuing_cert, int64_t now) {
  if (config.issuing_key_usage_days == 0) return OkStatus();
  struct tm not_before {};
  if (issuing_cert == nullptr || ASN1_TIME_to_tm(X509_get0_notBefore(issuing_cert), &not_before) != 1) {
    return InvalidArgumentError("cannot read the issuing certificate's notBefore");
  }
  const int64_t end = static_cast<int64_t>(timegm(&not_before)) + int64_t{86400} * config.issuing_key_usage_days;
  if (now < end) return OkStatus();
  return FailedPreconditionError("refusing to issue: the issuing key's usage period ended at " + Date(end) +
                                 " (issuing_key_usage_days = " + std::to_string(config.issuing_key_usage_days) +
                                 " in ca.toml, from the issuing certificate's notBefore); it still signs CRLs and "
                                 "OCSP responses for the certificates it issued. A new issuing key is needed");
}

}  // namespace certvault::ca
