// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The CA instance archive codec (docs/formats/backup.md, "CA instance
// archive"): round trip, and every damaged form refused.
#include "ca/db/ca_archive.h"

#include <gtest/gtest.h>

namespace certvault::ca {
namespace {

std::vector<CaArchiveEntry> Sample() {
  return {{"ca.toml", Bytes{'[', 'c', 'a', ']'}}, {kCaArchivePgDumpEntry, Bytes(100, 'x')}, {"token.cvbk", Bytes{}}};
}

TEST(CaArchiveTest, RoundTrip) {
  auto encoded = EncodeCaArchive(Sample(), 1765152000000);
  ASSERT_TRUE(encoded.ok());
  auto decoded = DecodeCaArchive(*encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  ASSERT_EQ(decoded->size(), 3u);
  EXPECT_EQ((*decoded)[1].name, kCaArchivePgDumpEntry);
  EXPECT_EQ((*decoded)[1].data, Bytes(100, 'x'));
}

TEST(CaArchiveTest, EveryTruncationAndBitFlipIsRefused) {
  auto encoded = EncodeCaArchive(Sample(), 1);
  ASSERT_TRUE(encoded.ok());
  for (size_t n = 0; n < encoded->size(); ++n) {
    EXPECT_FALSE(DecodeCaArchive(std::span(*encoded).first(n)).ok()) << n;
    Bytes flipped = *encoded;
    flipped[n] ^= 0x01;
    EXPECT_EQ(DecodeCaArchive(flipped).status().code(), StatusCode::kDataLoss) << n;
  }
}

TEST(CaArchiveTest, NamesThatLeaveTheDirectoryOrRepeatAreRefused) {
  for (const char* name : {"../ca.toml", ".hidden", "a/b", ""}) {
    EXPECT_FALSE(EncodeCaArchive({{name, Bytes{}}}, 1).ok()) << name;
  }
  // A duplicate would make restore write one file twice: refused on decode.
  auto twice = EncodeCaArchive({{"ca.toml", Bytes{1}}, {"ca.toml", Bytes{2}}}, 1);
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(DecodeCaArchive(*twice).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace certvault::ca
