// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// libFuzzer target for the RFC 7512 pkcs11: URI parser. Invariant checked:
// whatever parses prints to a URI that parses again and prints identically --
// unless printing (percent-encoding can triple a value) made it longer than the
// parser accepts, which the parser then must refuse cleanly.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "src/model/pkcs11_uri.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto uri = certvault::ParsePkcs11Uri(text);
  if (!uri.ok()) return 0;
  std::string printed = certvault::FormatPkcs11Uri(*uri);
  auto again = certvault::ParsePkcs11Uri(printed);
  if (printed.size() > certvault::kMaxUriLength) {
    if (again.ok()) std::abort();
    return 0;
  }
  if (!again.ok() || certvault::FormatPkcs11Uri(*again) != printed) std::abort();
  return 0;
}
