// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/der/der_reader.h"

namespace certvault::ca::der {

bool DerReader::Next(uint8_t* out_tag, std::span<const uint8_t>* out_contents, std::span<const uint8_t>* out_whole) {
  if (data_.size() < 2) return false;
  uint8_t tag = data_[0];
  if ((tag & 0x1f) == 0x1f) return false;  // high tag numbers never occur here
  size_t len = data_[1];
  size_t header = 2;
  if (len & 0x80) {
    size_t n = len & 0x7f;
    // X.690 §10.1: definite form, minimal octets; no indefinite length.
    if (n == 0 || n > 4 || data_.size() < 2 + n || data_[2] == 0) return false;
    len = 0;
    for (size_t i = 0; i < n; ++i) len = (len << 8) | data_[2 + i];
    if (len < 0x80) return false;
    header += n;
  }
  if (data_.size() - header < len) return false;
  if (out_tag != nullptr) *out_tag = tag;
  if (out_contents != nullptr) *out_contents = data_.subspan(header, len);
  if (out_whole != nullptr) *out_whole = data_.subspan(0, header + len);
  data_ = data_.subspan(header + len);
  return true;
}

bool DerReader::Expect(uint8_t tag, std::span<const uint8_t>* out_contents, std::span<const uint8_t>* out_whole) {
  uint8_t got = 0;
  DerReader copy = *this;
  if (!copy.Next(&got, out_contents, out_whole) || got != tag) return false;
  *this = copy;
  return true;
}

}  // namespace certvault::ca::der
