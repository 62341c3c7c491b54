// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// QueryNtpTime: a minimal SNTP client (RFC 4330), shared by the vault's
// trusted clock (trusted_clock.h) and certvault-ca's clock sanity check.
#ifndef CERTVAULT_BASE_SNTP_H_
#define CERTVAULT_BASE_SNTP_H_

#include <cstdint>
#include <string>

#include "src/base/result.h"

namespace certvault {

// QueryNtpTime: the time of an SNTP server named "ntp://HOST[:PORT]" (port
// 123 by default), in seconds since the Unix epoch. kInvalidArgument for a
// URL of another form; kUnavailable when the server cannot be resolved or
// does not answer within `timeout_ms` (three tries). Blocks the caller.
Result<int64_t> QueryNtpTime(const std::string& url, int timeout_ms);

}  // namespace certvault

#endif  // CERTVAULT_BASE_SNTP_H_
