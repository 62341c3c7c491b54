// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Fuzz target for the stored object record parser (src/storage/record.h):
// DecodeRecord must never read out of bounds, and whatever it accepts must
// re-encode to exactly the input (the encoding is canonical).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "src/storage/record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  certvault::Result<std::vector<certvault::storage::RecordEntry>> entries =
      certvault::storage::DecodeRecord({data, size});
  if (!entries.ok()) return 0;
  // A record that decodes has a valid header.
  certvault::storage::RecordHeader header = *certvault::storage::ParseRecordHeader({data, size});
  certvault::Bytes again = header.version == 1 ? certvault::storage::EncodeRecordV1(*entries)
                                               : certvault::storage::EncodeRecord(
                                                     header.mac, certvault::storage::EncodeRecordBody(*entries));
  if (again.size() != size || (size != 0 && std::memcmp(again.data(), data, size) != 0)) __builtin_trap();
  return 0;
}
