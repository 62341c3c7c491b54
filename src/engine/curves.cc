// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/engine/curves.h"

#include <algorithm>
#include <array>

#include "src/model/pkcs11_constants.h"

namespace certvault::engine {
namespace {

const std::array<Curve, 7>& Curves() {
  static const std::array<Curve, 7> curves = {{
      // 1.2.840.10045.3.1.7, 1.3.132.0.34, 1.3.132.0.35 (RFC 5480 §2.1.1.1)
      {CKK_EC, "prime256v1", 256, 32, {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07}, {}},
      {CKK_EC, "secp384r1", 384, 48, {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22}, {}},
      {CKK_EC, "secp521r1", 521, 66, {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23}, {}},
      // 1.3.101.110..113 (RFC 8410 §3)
      {CKK_EC_MONTGOMERY, "X25519", 255, 32, {0x06, 0x03, 0x2B, 0x65, 0x6E}, "curve25519"},
      {CKK_EC_MONTGOMERY, "X448", 448, 56, {0x06, 0x03, 0x2B, 0x65, 0x6F}, "curve448"},
      {CKK_EC_EDWARDS, "ED25519", 255, 32, {0x06, 0x03, 0x2B, 0x65, 0x70}, "edwards25519"},
      {CKK_EC_EDWARDS, "ED448", 448, 57, {0x06, 0x03, 0x2B, 0x65, 0x71}, "edwards448"},
  }};
  return curves;
}

constexpr uint8_t kTagOid = 0x06;
constexpr uint8_t kTagPrintableString = 0x13;
constexpr uint8_t kTagOctetString = 0x04;
constexpr uint8_t kTagSequence = 0x30;

}  // namespace

Result<const Curve*> CurveFromParams(std::span<const uint8_t> p) {
  // Only short-form lengths occur in the encodings we accept.
  if (p.size() < 2 || p[1] >= 0x80 || p[1] != p.size() - 2) {
    if (!p.empty() && p[0] == kTagSequence) return Status(Reason::kCurveNotSupported, "explicit EC parameters");
    return Status(Reason::kDomainParamsInvalid, "malformed CKA_EC_PARAMS");
  }
  std::span<const uint8_t> body = p.subspan(2);
  for (const Curve& c : Curves()) {
    if (p[0] == kTagOid && std::equal(p.begin(), p.end(), c.oid_der.begin(), c.oid_der.end())) return &c;
    if (p[0] == kTagPrintableString && !c.printable.empty() && AsStringView(body) == c.printable) return &c;
  }
  if (p[0] == kTagOid || p[0] == kTagPrintableString) return Status(Reason::kCurveNotSupported, "unsupported curve");
  if (p[0] == kTagSequence) return Status(Reason::kCurveNotSupported, "explicit EC parameters");
  return Status(Reason::kDomainParamsInvalid, "malformed CKA_EC_PARAMS");
}

const Curve* CurveByName(std::string_view ossl_name) {
  for (const Curve& c : Curves()) {
    if (ossl_name == c.ossl_name) return &c;
  }
  if (ossl_name == "P-256") return &Curves()[0];
  if (ossl_name == "P-384") return &Curves()[1];
  if (ossl_name == "P-521") return &Curves()[2];
  return nullptr;
}

Bytes DerOctetString(std::span<const uint8_t> raw) {
  Bytes out{kTagOctetString};
  if (raw.size() < 0x80) {
    out.push_back(static_cast<uint8_t>(raw.size()));
  } else if (raw.size() <= 0xFF) {
    out.push_back(0x81);
    out.push_back(static_cast<uint8_t>(raw.size()));
  } else {
    out.push_back(0x82);
    out.push_back(static_cast<uint8_t>(raw.size() >> 8));
    out.push_back(static_cast<uint8_t>(raw.size()));
  }
  out.insert(out.end(), raw.begin(), raw.end());
  return out;
}

Result<Bytes> PointFromAttr(std::span<const uint8_t> value, size_t raw_len) {
  // A raw uncompressed EC point also starts with 0x04, so length decides.
  if (value.size() == raw_len) return Bytes(value.begin(), value.end());
  if (value.size() > 2 && value[0] == kTagOctetString) {
    Bytes expect = DerOctetString(Bytes(raw_len));
    size_t header = expect.size() - raw_len;
    if (value.size() == expect.size() && std::equal(value.begin(), value.begin() + header, expect.begin())) {
      return Bytes(value.begin() + header, value.end());
    }
  }
  return Status(Reason::kAttributeValueInvalid, "EC point has an invalid encoding or length");
}

}  // namespace certvault::engine
