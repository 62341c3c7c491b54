// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// libFuzzer target for the provider's key-reference file parser and its key
// URI parser (src/provider/keyref.h). Invariant: a parsed key reference
// formats to a file that parses to the same URI.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "src/provider/keyref.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)certvault::provider::ParseKeyUri(text, /*claim_pkcs11=*/true);
  auto ref = certvault::provider::ParseKeyRef(text);
  if (!ref.ok()) return 0;
  auto again = certvault::provider::ParseKeyRef(certvault::provider::FormatKeyRef(*ref));
  if (!again.ok() || again->uri != ref->uri) std::abort();
  return 0;
}
