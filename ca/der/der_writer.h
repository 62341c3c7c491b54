// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// DerWriter: appends DER TLVs to a byte buffer. Used where OpenSSL's object
// model is too slow (a CRL of a million entries) or cannot take an external
// signature (OCSP ResponseData). Only definite lengths; the caller supplies
// already-encoded contents for constructed types (nested writers or OpenSSL
// i2d output). No parsing here: everything we write is re-parsed by OpenSSL
// before it leaves the CA.
#ifndef CERTVAULT_CA_DER_DER_WRITER_H_
#define CERTVAULT_CA_DER_DER_WRITER_H_

#include <cstdint>
#include <ctime>
#include <span>
#include <string_view>

#include "src/base/bytes.h"

namespace certvault::ca::der {

// ASN.1 tags used by the CA (X.690 §8).
inline constexpr uint8_t kInteger = 0x02;
inline constexpr uint8_t kBitString = 0x03;
inline constexpr uint8_t kOctetString = 0x04;
inline constexpr uint8_t kNull = 0x05;
inline constexpr uint8_t kOid = 0x06;
inline constexpr uint8_t kEnumerated = 0x0a;
inline constexpr uint8_t kUtcTime = 0x17;
inline constexpr uint8_t kGeneralizedTime = 0x18;
inline constexpr uint8_t kSequence = 0x30;
// ContextTag(n, constructed): [n] tag byte for n < 31.
constexpr uint8_t ContextTag(uint8_t n, bool constructed) { return static_cast<uint8_t>(0x80 | (constructed ? 0x20 : 0) | n); }

// AppendTlv: tag, minimal definite length, contents.
void AppendTlv(Bytes& out, uint8_t tag, std::span<const uint8_t> contents);
// AppendHeader: only tag and length (contents follow from the caller).
void AppendHeader(Bytes& out, uint8_t tag, size_t length);
// HeaderSize: bytes AppendHeader writes for `length`.
size_t HeaderSize(size_t length);
// AppendUnsignedInteger: a non-negative INTEGER from big-endian magnitude
// bytes (leading zeros stripped, a 0x00 added when the top bit is set).
void AppendUnsignedInteger(Bytes& out, std::span<const uint8_t> magnitude);
void AppendSmallInteger(Bytes& out, uint8_t tag, uint32_t value);
// AppendTime: RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime after.
void AppendTime(Bytes& out, time_t t);
// AppendGeneralizedTime: always GeneralizedTime (OCSP, invalidityDate).
void AppendGeneralizedTime(Bytes& out, time_t t);
// Wrap: tag + length around `contents`.
Bytes Wrap(uint8_t tag, std::span<const uint8_t> contents);

}  // namespace certvault::ca::der

#endif  // CERTVAULT_CA_DER_DER_WRITER_H_
