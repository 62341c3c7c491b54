// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Byte helpers: the public (non-secret) byte vector and span conversions.
#ifndef CERTVAULT_BASE_BYTES_H_
#define CERTVAULT_BASE_BYTES_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace certvault {

using Bytes = std::vector<uint8_t>;

inline std::span<const uint8_t> AsSpan(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsStringView(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

// HexEncode: lower-case hex. For public data only (ids, serials, digests).
std::string HexEncode(std::span<const uint8_t> data);
// HexDecode: false on odd length or a non-hex character.
bool HexDecode(std::string_view hex, Bytes* out);

}  // namespace certvault

#endif  // CERTVAULT_BASE_BYTES_H_
