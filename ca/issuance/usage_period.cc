// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/issuance/usage_period.h"

#include <openssl/asn1.h>

#include <ctime>
#include <string>

#include "src/base/utc_time.h"

namespace certvault::ca {

Status CheckIssuingKeyUsage(const CaConfig& config, X509* issuing_cert, int64_t now) {
  if (config.issuing_key_usage_days == 0) return OkStatus();
  struct tm not_before {};
  if (issuing_cert == nullptr || ASN1_TIME_to_tm(X509_get0_notBefore(issuing_cert), &not_before) != 1) {
    return InvalidArgumentError("cannot read the issuing certificate's notBefore");
  }
  const int64_t end = static_cast<int64_t>(timegm(&not_before)) + int64_t{86400} * config.issuing_key_usage_days;
  if (now < end) return OkStatus();
  return FailedPreconditionError("refusing to issue: the issuing key's usage period ended at " + UtcTimeText(end) +
                                 " (issuing_key_usage_days = " + std::to_string(config.issuing_key_usage_days) +
                                 " in ca.toml, from the issuing certificate's notBefore); it still signs CRLs and "
                                 "OCSP responses for the certificates it issued. A new issuing key is needed");
}

}  // namespace certvault::ca
