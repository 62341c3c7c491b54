// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// UtcTimeText: a Unix time as RFC 3339 UTC text, for messages and reports.
#ifndef CERTVAULT_BASE_UTC_TIME_H_
#define CERTVAULT_BASE_UTC_TIME_H_

#include <cstdint>
#include <string>

namespace certvault {

// UtcTimeText: `seconds` since the Unix epoch as "YYYY-MM-DDTHH:MM:SSZ";
// empty if it cannot be represented.
std::string UtcTimeText(int64_t seconds);

}  // namespace certvault

#endif  // CERTVAULT_BASE_UTC_TIME_H_
