// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The curves the engine supports and their CKA_EC_PARAMS encodings, plus the
// DER OCTET STRING form of CKA_EC_POINT. Private to src/engine.
#ifndef CERTVAULT_ENGINE_CURVES_H_
#define CERTVAULT_ENGINE_CURVES_H_

#include <cstddef>
#include <span>
#include <string_view>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/model/types.h"

namespace certvault::engine {

struct Curve {
  KeyType key_type;          // CKK_EC, CKK_EC_EDWARDS, CKK_EC_MONTGOMERY
  const char* ossl_name;     // group name (EC) or key type name (ED25519 ...)
  size_t bits;               // nominal size reported as key_bits / in MechanismInfo
  size_t field_bytes;        // scalar/coordinate bytes (EC), raw key bytes (others)
  Bytes oid_der;             // the named-curve OID, DER
  std::string_view printable;  // RFC 8410-era printable name, or empty
};

// CurveFromParams: the curve named by a CKA_EC_PARAMS value: a DER OID or (for
// Edwards/Montgomery) a DER PrintableString. Explicit domain parameters get
// kCurveNotSupported; unknown OIDs kCurveNotSupported; garbage kDomainParamsInvalid.
Result<const Curve*> CurveFromParams(std::span<const uint8_t> ec_params);
// CurveByName: by OpenSSL group/key type name ("prime256v1", "ED25519" ...); null if none.
const Curve* CurveByName(std::string_view ossl_name);

// DerOctetString: wraps `raw` as a DER OCTET STRING (CKA_EC_POINT format).
Bytes DerOctetString(std::span<const uint8_t> raw);
// PointFromAttr: the raw point of a CKA_EC_POINT (or ECDH public data) value,
// accepting the DER OCTET STRING form or the raw form. `raw_len` is the
// expected raw length (2*field+1 for EC, field for others). Returns
// kAttributeValueInvalid if neither form matches.
Result<Bytes> PointFromAttr(std::span<const uint8_t> value, size_t raw_len);

}  // namespace certvault::engine

#endif  // CERTVAULT_ENGINE_CURVES_H_
