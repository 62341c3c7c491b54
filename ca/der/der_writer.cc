// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/der/der_writer.h"

#include <cstdio>

namespace certvault::ca::der {

size_t HeaderSize(size_t length) {
  if (length < 0x80) return 2;
  size_t n = 0;
  for (size_t v = length; v != 0; v >>= 8) ++n;
  return 2 + n;
}

void AppendHeader(Bytes& out, uint8_t tag, size_t length) {
  out.push_back(tag);
  if (length < 0x80) {
    out.push_back(static_cast<uint8_t>(length));
    return;
  }
  // X.690 §8.1.3.5: long form, the minimum number of length octets.
  size_t n = HeaderSize(length) - 2;
  out.push_back(static_cast<uint8_t>(0x80 | n));
  for (size_t i = n; i > 0; --i) out.push_back(static_cast<uint8_t>(length >> (8 * (i - 1))));
}

void AppendTlv(Bytes& out, uint8_t tag, std::span<const uint8_t> contents) {
  AppendHeader(out, tag, contents.size());
  out.insert(out.end(), contents.begin(), contents.end());
}

Bytes Wrap(uint8_t tag, std::span<const uint8_t> contents) {
  Bytes out;
  out.reserve(HeaderSize(contents.size()) + contents.size());
  AppendTlv(out, tag, contents);
  return out;
}

void AppendUnsignedInteger(Bytes& out, std::span<const uint8_t> magnitude) {
  size_t start = 0;
  while (start + 1 < magnitude.size() && magnitude[start] == 0) ++start;
  std::span<const uint8_t> m = magnitude.subspan(start);
  // X.690 §8.3.2: the first nine bits are never all zero or all one, so a
  // magnitude with its top bit set gets a leading 0x00 (it is positive).
  bool pad = m.empty() || (m[0] & 0x80) != 0;
  AppendHeader(out, kInteger, m.size() + (pad ? 1 : 0));
  if (pad) out.push_back(0x00);
  out.insert(out.end(), m.begin(), m.end());
}

void AppendSmallInteger(Bytes& out, uint8_t tag, uint32_t value) {
  uint8_t buf[4] = {static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16),
                    static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
  size_t start = 0;
  while (start < 3 && buf[start] == 0 && (buf[start + 1] & 0x80) == 0) ++start;
  bool pad = (buf[start] & 0x80) != 0;
  AppendHeader(out, tag, 4 - start + (pad ? 1 : 0));
  if (pad) out.push_back(0x00);
  out.insert(out.end(), buf + start, buf + 4);
}

namespace {

void AppendTimeString(Bytes& out, time_t t, bool generalized) {
  struct tm tm_utc;
  gmtime_r(&t, &tm_utc);
  char buf[20];
  int year = tm_utc.tm_year + 1900;
  int n = generalized ? std::snprintf(buf, sizeof(buf), "%04d%02d%02d%02d%02d%02dZ", year, tm_utc.tm_mon + 1,
                                      tm_utc.tm_mday, tm_utc.tm_hour, tm_utc.tm_min, tm_utc.tm_sec)
                      : std::snprintf(buf, sizeof(buf), "%02d%02d%02d%02d%02d%02dZ", year % 100, tm_utc.tm_mon + 1,
                                      tm_utc.tm_mday, tm_utc.tm_hour, tm_utc.tm_min, tm_utc.tm_sec);
  AppendTlv(out, generalized ? kGeneralizedTime : kUtcTime,
            std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(buf), static_cast<size_t>(n)));
}

}  // namespace

void AppendTime(Bytes& out, time_t t) {
  struct tm tm_utc;
  gmtime_r(&t, &tm_utc);
  // RFC 5280 §4.1.2.5: "CAs conforming to this profile MUST always encode
  // certificate validity dates through the year 2049 as UTCTime".
  AppendTimeString(out, t, tm_utc.tm_year + 1900 >= 2050);
}

void AppendGeneralizedTime(Bytes& out, time_t t) { AppendTimeString(out, t, true); }

}  // namespace certvault::ca::der
