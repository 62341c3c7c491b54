// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/storage/record.h"

#include <gtest/gtest.h>

#include "src/base/byte_reader.h"

namespace certvault::storage {
namespace {

RecordEntry Entry(uint64_t type, bool sealed, std::initializer_list<uint8_t> value) {
  RecordEntry e;
  e.type = type;
  e.sealed = sealed;
  e.value.assign(value.begin(), value.end());
  return e;
}

std::vector<RecordEntry> Sample() {
  return {Entry(0x0, false, {3, 0, 0, 0, 0, 0, 0, 0}), Entry(0x3, false, {'k', 'e', 'y'}), Entry(0x11, true, {}),
          Entry(0x80000001, true, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13})};
}

void ExpectCorrupt(std::span<const uint8_t> bytes) {
  Result<std::vector<RecordEntry>> r = DecodeRecord(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(r.status().reason(), Reason::kCorruptStore);
}

Bytes Mac() { return Bytes(kRecordMacSize, 0xff); }
// V2: a version-2 record of `entries` carrying a MAC (the codec does not check it).
Bytes V2(const std::vector<RecordEntry>& entries) { return EncodeRecord(Mac(), EncodeRecordBody(entries)); }

// Builds a version-1 record by hand: header + raw entries.
Bytes Raw(uint32_t count, const std::vector<std::tuple<uint64_t, uint8_t, Bytes>>& entries) {
  Bytes out = {'C', 'V', 'R', 1};
  ByteWriter<Bytes> w(&out);
  w.WriteU32(count);
  for (const auto& [type, flags, value] : entries) {
    w.WriteU64(type);
    w.WriteU8(flags);
    w.WriteU32LengthPrefixed(value);
  }
  return out;
}

void ExpectSample(const Result<std::vector<RecordEntry>>& decoded) {
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), Sample().size());
  for (size_t i = 0; i < decoded->size(); ++i) {
    EXPECT_EQ((*decoded)[i].type, Sample()[i].type);
    EXPECT_EQ((*decoded)[i].sealed, Sample()[i].sealed);
    EXPECT_EQ((*decoded)[i].value, Sample()[i].value);
  }
}

TEST(RecordTest, RoundTrip) {
  ExpectSample(DecodeRecord(V2(Sample())));
  ExpectSample(DecodeRecord(EncodeRecord({}, EncodeRecordBody(Sample()))));  // unauthenticated
  ExpectSample(DecodeRecord(EncodeRecordV1(Sample())));                     // legacy
}

TEST(RecordTest, HeaderLocatesMacAndBody) {
  Bytes body = EncodeRecordBody(Sample());
  Bytes record = V2(Sample());
  Result<RecordHeader> h = ParseRecordHeader(record);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->version, 2);
  EXPECT_EQ(Bytes(h->mac.begin(), h->mac.end()), Mac());
  EXPECT_EQ(Bytes(h->body.begin(), h->body.end()), body);
  Bytes unauth = EncodeRecord({}, body);
  h = ParseRecordHeader(unauth);
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->mac.empty());
  EXPECT_EQ(Bytes(h->body.begin(), h->body.end()), body);
  Bytes v1 = EncodeRecordV1(Sample());
  h = ParseRecordHeader(v1);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->version, 1);
  EXPECT_TRUE(h->mac.empty());
  EXPECT_EQ(Bytes(h->body.begin(), h->body.end()), body);
}

TEST(RecordTest, KnownEncoding) {
  std::vector<RecordEntry> one = {Entry(0x102, true, {0xaa})};
  Bytes expected = {'C', 'V', 'R', 2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 2, 1, 0, 0, 0, 1, 0xaa};
  EXPECT_EQ(EncodeRecord({}, EncodeRecordBody(one)), expected);
  Bytes v1 = {'C', 'V', 'R', 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 2, 1, 0, 0, 0, 1, 0xaa};
  EXPECT_EQ(EncodeRecordV1(one), v1);
}

TEST(RecordTest, EmptyRecord) {
  Bytes encoded = EncodeRecord({}, EncodeRecordBody({}));
  EXPECT_EQ(encoded.size(), 9u);
  Result<std::vector<RecordEntry>> decoded = DecodeRecord(encoded);
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->empty());
}

TEST(RecordTest, EveryTruncationFails) {
  for (const Bytes& encoded : {V2(Sample()), EncodeRecordV1(Sample())}) {
    for (size_t n = 0; n < encoded.size(); ++n) {
      SCOPED_TRACE(n);
      ExpectCorrupt(std::span<const uint8_t>(encoded).first(n));
    }
  }
}

TEST(RecordTest, EveryHeaderBitFlipFails) {
  // magic | version | mac_len, then (after the MAC) the entry count.
  Bytes encoded = V2(Sample());
  std::vector<size_t> header = {0, 1, 2, 3, 4};
  for (size_t i = 0; i < 4; ++i) header.push_back(5 + kRecordMacSize + i);
  for (size_t byte : header) {
    for (int bit = 0; bit < 8; ++bit) {
      SCOPED_TRACE(byte * 8 + bit);
      Bytes flipped = encoded;
      flipped[byte] ^= static_cast<uint8_t>(1u << bit);
      ExpectCorrupt(flipped);
    }
  }
}

TEST(RecordTest, BadMacLengthFails) {
  Bytes encoded = EncodeRecord({}, EncodeRecordBody({}));
  for (int len : {1, 16, 31, 33, 255}) {
    Bytes bad = encoded;
    bad[4] = static_cast<uint8_t>(len);
    bad.insert(bad.begin() + 5, static_cast<size_t>(len), 0);
    ExpectCorrupt(bad);
  }
}

TEST(RecordTest, UnknownFlagBitsFail) {
  Bytes encoded = V2(Sample());
  const size_t kFirstFlagsOffset = 5 + kRecordMacSize + 4 + 8;
  for (int bit = 1; bit < 8; ++bit) {
    Bytes flipped = encoded;
    flipped[kFirstFlagsOffset] ^= static_cast<uint8_t>(1u << bit);
    ExpectCorrupt(flipped);
  }
}

TEST(RecordTest, TrailingBytesFail) {
  Bytes encoded = V2(Sample());
  encoded.push_back(0);
  ExpectCorrupt(encoded);
}

TEST(RecordTest, TypesMustStrictlyIncrease) {
  ExpectCorrupt(Raw(2, {{5, 0, {1}}, {5, 0, {2}}}));
  ExpectCorrupt(Raw(2, {{6, 0, {1}}, {5, 0, {2}}}));
  EXPECT_TRUE(DecodeRecord(Raw(2, {{5, 0, {1}}, {6, 0, {2}}})).ok());
}

TEST(RecordTest, OversizeLengthFails) {
  Bytes big(kMaxValueLength + 1, 0x41);
  ExpectCorrupt(Raw(1, {{1, 0, big}}));
  big.pop_back();
  EXPECT_TRUE(DecodeRecord(Raw(1, {{1, 0, big}})).ok());
}

TEST(RecordTest, LengthBeyondEndFails) {
  Bytes raw = Raw(1, {{1, 0, {1, 2, 3}}});
  raw[8 + 8 + 1 + 3] = 4;  // length 3 -> 4
  ExpectCorrupt(raw);
}

TEST(RecordTest, CountLimits) {
  ExpectCorrupt(Raw(static_cast<uint32_t>(kMaxEntries + 1), {}));
  ExpectCorrupt(Raw(0xffffffffu, {}));
  ExpectCorrupt(Raw(3, {{1, 0, {}}, {2, 0, {}}}));
}

TEST(RecordTest, BadMagicAndVersion) {
  Bytes raw = Raw(0, {});
  raw[3] = 3;
  ExpectCorrupt(raw);
  raw[3] = 0;
  ExpectCorrupt(raw);
  raw = Raw(0, {});
  raw[0] = 'X';
  ExpectCorrupt(raw);
}

}  // namespace
}  // namespace certvault::storage
