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
constexpr uint8_t kRecordVersionV1 = 1;
constexpr uint8_t kRecordVersion = 2;
constexpr uint8_t kFlagSealed = 0x01;
constexpr uint8_t kKnownFlags = kFlagSealed;
// Smallest entry: type u64 | flags u8 | length u32 with an empty value.
constexpr size_t kMinEntrySize = 8 + 1 + 4;

Status Corrupt(std::string_view what) {
  return Status(Reason::kCorruptStore, std::string("corrupt object record: ") + std::string(what));
}

Status DecodeCount(ByteReader* in, uint32_t* out_count) {
  if (!in->ReadU32(out_count)) return Corrupt("truncated header");
  if (*out_count > kMaxEntries) return Corrupt("too many entries");
  // Each entry needs at least kMinEntrySize bytes: reject an inflated count
  // before reserving memory for it.
  if (*out_count > in->remaining() / kMinEntrySize) return Corrupt("entry count exceeds record size");
  return OkStatus();
}

void WriteEntries(ByteWriter<Bytes>* w, const std::vector<RecordEntry>& entries) {
  w->WriteU32(static_cast<uint32_t>(entries.size()));
  for (const RecordEntry& e : entries) {
    w->WriteU64(e.type);
    w->WriteU8(e.sealed ? kFlagSealed : 0);
    w->WriteU32LengthPrefixed(e.value);
  }
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

Bytes EncodeRecordBody(const std::vector<RecordEntry>& entries) {
  Bytes out;
  ByteWriter<Bytes> w(&out);
  WriteEntries(&w, entries);
  return out;
}

Bytes EncodeRecord(std::span<const uint8_t> mac, std::span<const uint8_t> body) {
  // The magic goes in through the constructor: GCC 12 at -O3 reports a false
  // -Wstringop-overflow for a range insert into an empty vector.
  Bytes out(std::begin(kMagic), std::end(kMagic));
  out.reserve(sizeof(kMagic) + 2 + mac.size() + body.size());
  ByteWriter<Bytes> w(&out);
  w.WriteU8(kRecordVersion);
  w.WriteU8(static_cast<uint8_t>(mac.size()));
  w.WriteBytes(mac);
  w.WriteBytes(body);
  return out;
}

Bytes EncodeRecordV1(const std::vector<RecordEntry>& entries) {
  Bytes out(std::begin(kMagic), std::end(kMagic));
  ByteWriter<Bytes> w(&out);
  w.WriteU8(kRecordVersionV1);
  WriteEntries(&w, entries);
  return out;
}

Result<RecordHeader> ParseRecordHeader(std::span<const uint8_t> bytes) {
  ByteReader in(bytes);
  std::span<const uint8_t> magic;
  RecordHeader out;
  if (!in.ReadBytes(sizeof(kMagic), &magic) || !in.ReadU8(&out.version)) return Corrupt("truncated header");
  if (magic[0] != kMagic[0] || magic[1] != kMagic[1] || magic[2] != kMagic[2]) return Corrupt("bad magic");
  if (out.version == kRecordVersion) {
    uint8_t mac_len = 0;
    if (!in.ReadU8(&mac_len)) return Corrupt("truncated header");
    if (mac_len != 0 && mac_len != kRecordMacSize) return Corrupt("bad MAC length");
    if (!in.ReadBytes(mac_len, &out.mac)) return Corrupt("truncated MAC");
  } else if (out.version != kRecordVersionV1) {
    return Corrupt("unsupported version " + std::to_string(out.version));
  }
  out.body = bytes.subspan(bytes.size() - in.remaining());
  return out;
}

Result<std::vector<RecordEntry>> DecodeRecord(std::span<const uint8_t> bytes) {
  CV_ASSIGN_OR_RETURN(RecordHeader header, ParseRecordHeader(bytes));
  ByteReader in(header.body);
  uint32_t count = 0;
  CV_RETURN_IF_ERROR(DecodeCount(&in, &count));
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
