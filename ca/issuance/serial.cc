// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/issuance/serial.h"

#include <cctype>

#include "src/base/bytes.h"
#include "src/crypto/random.h"
#include "src/base/status_macros.h"

namespace certvault::ca {

std::string Serial::Hex() const { return HexEncode(bytes); }

Result<Serial> NewSerial() {
  Serial s;
  CV_RETURN_IF_ERROR(crypto::RandomBytes(s.bytes));
  s.bytes[0] &= 0x7f;
  if (s.bytes[0] == 0) s.bytes[0] = 0x01;
  return s;
}

Result<std::string> NormalizeSerialHex(std::string_view text) {
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  std::string out;
  for (char c : text) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return InvalidArgumentError("serial must be hexadecimal");
    if (out.empty() && c == '0') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (out.empty() || out.size() > 40) return InvalidArgumentError("serial must be 1..20 octets of hexadecimal");
  if (out.size() % 2 == 1) out = "0" + out;
  return out;
}

}  // namespace certvault::ca
