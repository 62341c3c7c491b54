// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/base/byte_reader.h"

namespace certvault {
namespace {

template <typename T>
bool ReadBe(std::span<const uint8_t>* data, size_t n, T* out) {
  if (data->size() < n) return false;
  T v = 0;
  for (size_t i = 0; i < n; ++i) v = static_cast<T>((v << 8) | (*data)[i]);
  *out = v;
  *data = data->subspan(n);
  return true;
}

}  // namespace

bool ByteReader::ReadU8(uint8_t* out) { return ReadBe(&data_, 1, out); }
bool ByteReader::ReadU16(uint16_t* out) { return ReadBe(&data_, 2, out); }
bool ByteReader::ReadU32(uint32_t* out) { return ReadBe(&data_, 4, out); }
bool ByteReader::ReadU64(uint64_t* out) { return ReadBe(&data_, 8, out); }

bool ByteReader::ReadBytes(size_t n, std::span<const uint8_t>* out) {
  if (data_.size() < n) return false;
  *out = data_.first(n);
  data_ = data_.subspan(n);
  return true;
}

bool ByteReader::ReadU32LengthPrefixed(std::span<const uint8_t>* out) {
  uint32_t len = 0;
  std::span<const uint8_t> saved = data_;
  if (!ReadU32(&len) || !ReadBytes(len, out)) {
    data_ = saved;  // a failed read consumes nothing
    return false;
  }
  return true;
}

bool ByteReader::Skip(size_t n) {
  if (data_.size() < n) return false;
  data_ = data_.subspan(n);
  return true;
}

}  // namespace certvault
