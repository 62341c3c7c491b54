// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/storage/record.h"

#include <iterator>
#include <string>

#include "src/base/byte_reader.h"
#include "src/base/status.h"
#include "src/base/status_macros.h"

namespace certvault::storage {
namespace {

constexpr uint8_t kMagic[3] = {'C', 'V', 'R'};
constexpr uint8_t kRecordVersion = 1;
constexpr uint8_t kFlagSealed = 0x01;
constexpr uint8_t kKnownFlags = kFlagSealed;
// Smallest entry: type u64 | flags u8 | length u32 with an empty value.
constexpr size_t kMinEntrySize = 8 + 1 + 4;

Status Corrupt(std::string_view what) {
  return Status(Reason::kCorruptStore, std::string("corrupt object record: ") + std::string(what));
}

Status DecodeHeader(ByteReader* in, uint32_t* out_count) {
  std::span<const uint8_t> magic;
  uint8_t version = 0;
  if (!in->ReadBytes(sizeof(kMagic), &magic) || !in->ReadU8(&version) || !in->ReadU32(out_count)) {
    return Corrupt("truncated header");
  }
  if (magic[0] != kMagic[0] || magic[1] != kMagic[1] || magic[2] != kMagic[2]) {
    return Corrupt("bad magic");
  }
  if (version != kRecordVersion) return Corrupt("unsupported version " + std::to_string(version));
  if (*out_count > kMaxEntries) return Corrupt("too many entries");
  // Each entry needs at least kMinEntrySize bytes: reject an inflated count
  // before reserving memory for it.
  if (*out_count > in->remaining() / kMinEntrySize) return Corrupt("entry count exceeds record size");
  return OkStatus();
}

Status DecodeEntry(ByteReader* in, RecordEntry* out) {
  uint8_t flags = 0;
  uint32_t length = 0;
  std::span<const uint8_t> value;
  if (!in->ReadU64(&out->type) || !in->ReadU8(&flags) || !in->ReadU32(&length)) {
    return Corrupt("truncated entry");
  }
  if ((flags & ~kKnownFlags) != 0) return Corrupt("unknown entry flags");
  if (length > kMaxValueLength) return Corrupt("value too long");
  if (!in->ReadBytes(length, &value)) return Corrupt("truncated value");
  out->sealed = (flags & kFlagSealed) != 0;
  out->value.assign(value.begin(), value.end());
  return OkStatus();
}

}  // namespace

Bytes EncodeRecord(const std::vector<RecordEntry>& entries) {
  // The magic goes in through the constructor: GCC 12 at -O3 reports a false
  // -Wstringop-overflow for a range insert into an empty vector.
  Bytes out(std::begin(kMagic), std::end(kMagic));
  size_t size = sizeof(kMagic) + 1 + 4;
  for (const RecordEntry& e : entries) size += kMinEntrySize + e.value.size();
  out.reserve(size);
  ByteWriter<Bytes> w(&out);
  w.WriteU8(kRecordVersion);
  w.WriteU32(static_cast<uint32_t>(entries.size()));
  for (const RecordEntry& e : entries) {
    w.WriteU64(e.type);
    w.WriteU8(e.sealed ? kFlagSealed : 0);
    w.WriteU32LengthPrefixed(e.value);
  }
  return out;
}

Result<std::vector<RecordEntry>> DecodeRecord(std::span<const uint8_t> bytes) {
  ByteReader in(bytes);
  uint32_t count = 0;
  CV_RETURN_IF_ERROR(DecodeHeader(&in, &count));
  std::vector<RecordEntry> entries(count);
  for (uint32_t i = 0; i < count; ++i) {
    Status s = DecodeEntry(&in, &entries[i]);
    if (!s.ok()) return s;
    if (i > 0 && entries[i].type <= entries[i - 1].type) return Corrupt("types not strictly increasing");
  }
  if (!in.empty()) return Corrupt("trailing bytes");
  return entries;
}

}  // namespace certvault::storage
