// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CheckIssuingKeyUsage: the issuing key's usage period (issue 17, key
// lifecycle and crypto-periods; NIST SP 800-57 Part 1 §5.3: the originator-
// usage period of a signing key can be shorter than the validity of what it
// signs). ca.toml `issuing_key_usage_days` (0: no limit) counts from the
// issuing certificate's notBefore. Once the period is over the key issues no
// more certificates; it keeps signing CRLs and OCSP responses for those it
// issued (their recipient-usage period), which this check does not gate.
#ifndef CERTVAULT_CA_ISSUANCE_USAGE_PERIOD_H_
#define CERTVAULT_CA_ISSUANCE_USAGE_PERIOD_H_

#include <openssl/x509.h>

#include <cstdint>

#include "ca/config/ca_config.h"
#include "src/base/status.h"

namespace certvault::ca {

// CheckIssuingKeyUsage: OK while `now` is before the end of the usage period
// of the key behind `issuing_cert` (or no period is configured);
// kFailedPrecondition naming the end date and the setting otherwise, and
// kInvalidArgument when the certificate's notBefore cannot be read.
Status CheckIssuingKeyUsage(const CaConfig& config, X509* issuing_cert, int64_t now);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_ISSUANCE_USAGE_PERIOD_H_
