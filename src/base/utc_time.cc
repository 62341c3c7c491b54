// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/base/utc_time.h"

#include <ctime>

namespace certvault {

std::string UtcTimeText(int64_t seconds) {
  time_t t = static_cast<time_t>(seconds);
  struct tm tm_v {};
  char buf[32];
  if (gmtime_r(&t, &tm_v) == nullptr || std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm_v) == 0) return "";
  return buf;
}

}  // namespace certvault
