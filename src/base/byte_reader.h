// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// ByteReader / ByteWriter: bounds-checked big-endian parsing and building
// (BoringSSL's CBS/CBB). Every parser of untrusted bytes (stored records, IPC
// frames, templates) reads through ByteReader; no reader method reads past the
// end, and each returns false instead.
#ifndef CERTVAULT_BASE_BYTE_READER_H_
#define CERTVAULT_BASE_BYTE_READER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace certvault {

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}

  size_t remaining() const { return data_.size(); }
  bool empty() const { return data_.empty(); }

  bool ReadU8(uint8_t* out);
  bool ReadU16(uint16_t* out);
  bool ReadU32(uint32_t* out);
  bool ReadU64(uint64_t* out);
  // ReadBytes: `out` views the next n bytes (no copy); the view lives as long
  // as the underlying buffer.
  bool ReadBytes(size_t n, std::span<const uint8_t>* out);
  // ReadU32LengthPrefixed: a u32 length, then that many bytes.
  bool ReadU32LengthPrefixed(std::span<const uint8_t>* out);
  bool Skip(size_t n);

 private:
  std::span<const uint8_t> data_;
};

// ByteWriter appends big-endian integers and byte strings to a vector of
// byte type V (std::vector<uint8_t> or SecureVector).
template <typename V>
class ByteWriter {
 public:
  explicit ByteWriter(V* out) : out_(out) {}
  void WriteU8(uint8_t v) { out_->push_back(v); }
  void WriteU16(uint16_t v) { WriteBe(v, 2); }
  void WriteU32(uint32_t v) { WriteBe(v, 4); }
  void WriteU64(uint64_t v) { WriteBe(v, 8); }
  void WriteBytes(std::span<const uint8_t> b) { out_->insert(out_->end(), b.begin(), b.end()); }
  // WriteU32LengthPrefixed: REQUIRES b.size() <= UINT32_MAX.
  void WriteU32LengthPrefixed(std::span<const uint8_t> b) {
    WriteU32(static_cast<uint32_t>(b.size()));
    WriteBytes(b);
  }

 private:
  void WriteBe(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) out_->push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  V* out_;
};

}  // namespace certvault

#endif  // CERTVAULT_BASE_BYTE_READER_H_
