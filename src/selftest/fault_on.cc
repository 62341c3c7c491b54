// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The test-only fault-injection hook: CERTVAULT_SELFTEST_FAULT=<test name>
// makes that test fail. Linked only into dedicated test binaries (see
// CMakeLists.txt); never into an installed program or module.
#include <cstdlib>

#include "src/selftest/internal.h"

namespace certvault::selftest::internal {

bool FaultInjected(std::string_view test) {
  const char* fault = std::getenv("CERTVAULT_SELFTEST_FAULT");
  return fault != nullptr && test == fault;
}

}  // namespace certvault::selftest::internal
