// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The release build of the fault-injection hook: no fault can be injected.
// Test binaries that link fault_on.cc as a source file never pull this
// object out of the archive (the symbol is already defined).
#include "src/selftest/internal.h"

namespace certvault::selftest::internal {

bool FaultInjected(std::string_view) { return false; }

}  // namespace certvault::selftest::internal
