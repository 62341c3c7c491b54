// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Serial: a certificate serial number. RFC 5280 §4.1.2.2: positive, unique
// per CA, at most 20 octets; CA/B BR 7.1: at least 64 random bits. We use 20
// random octets with the top bit cleared (≤ 159 bits, so the DER INTEGER needs
// no sign octet) and a non-zero first octet (always exactly 20 octets).
// Uniqueness is enforced by the database (UNIQUE (ca, serial)).
#ifndef CERTVAULT_CA_ISSUANCE_SERIAL_H_
#define CERTVAULT_CA_ISSUANCE_SERIAL_H_

#include <array>
#include <cstdint>
#include <string>

#include "src/base/result.h"

namespace certvault::ca {

struct Serial {
  std::array<uint8_t, 20> bytes{};
  std::string Hex() const;
};

// NewSerial: from the OpenSSL DRBG; kInternal if it fails.
Result<Serial> NewSerial();
// ParseSerialHex: 1..40 hex digits (optional "0x"), normalized to lower case
// without leading zeros. kInvalidArgument otherwise.
Result<std::string> NormalizeSerialHex(std::string_view text);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_ISSUANCE_SERIAL_H_
