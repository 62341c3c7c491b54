// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// DerReader: bounds-checked reading of DER TLVs (BoringSSL CBS style), only
// what the CA's fast CSR intake needs: split a structure into its elements
// without building OpenSSL objects. Definite lengths only (DER), tags < 31,
// lengths up to 4 octets, minimal length encoding enforced.
#ifndef CERTVAULT_CA_DER_DER_READER_H_
#define CERTVAULT_CA_DER_DER_READER_H_

#include <cstdint>
#include <span>

namespace certvault::ca::der {

class DerReader {
 public:
  explicit DerReader(std::span<const uint8_t> data) : data_(data) {}
  // Next: reads one TLV. `out_contents` is the value, `out_whole` the TLV
  // including its header. false on truncation or a malformed header.
  bool Next(uint8_t* out_tag, std::span<const uint8_t>* out_contents, std::span<const uint8_t>* out_whole);
  // Expect: Next, and the tag must be `tag`.
  bool Expect(uint8_t tag, std::span<const uint8_t>* out_contents, std::span<const uint8_t>* out_whole = nullptr);
  bool empty() const { return data_.empty(); }
  // PeekTag: the next tag, or 0 when empty.
  uint8_t PeekTag() const { return data_.empty() ? 0 : data_[0]; }

 private:
  std::span<const uint8_t> data_;
};

}  // namespace certvault::ca::der

#endif  // CERTVAULT_CA_DER_DER_READER_H_
