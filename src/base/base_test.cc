// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "src/base/byte_reader.h"
#include "src/base/bytes.h"
#include "src/base/ct.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/base/status.h"
#include "src/base/status_macros.h"
#include "src/base/vault_perms.h"

namespace certvault {
namespace {

TEST(StatusTest, OkIsOkAndEmpty) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.reason(), Reason::kNone);
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ReasonImpliesCanonicalCode) {
  Status s(Reason::kPinIncorrect, "wrong PIN");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(s.reason(), Reason::kPinIncorrect);
  EXPECT_EQ(s.ToString(), "UNAUTHENTICATED: wrong PIN");
  EXPECT_EQ(Status(Reason::kBufferTooSmall).code(), StatusCode::kOutOfRange);
}

TEST(StatusTest, AnnotateKeepsCodeAndReason) {
  Status s = Status(Reason::kCorruptStore, "bad tag").Annotate("object 7");
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_EQ(s.reason(), Reason::kCorruptStore);
  EXPECT_EQ(s.message(), "object 7: bad tag");
}

TEST(StatusTest, OkCodeWithMessageIsOk) {
  EXPECT_TRUE(Status(StatusCode::kOk, "ignored").ok());
}

Result<int> Half(int v) {
  if (v % 2 != 0) return InvalidArgumentError("odd");
  return v / 2;
}

Status Quarter(int v, int* out) {
  CV_ASSIGN_OR_RETURN(int h, Half(v));
  CV_ASSIGN_OR_RETURN(*out, Half(h));
  return OkStatus();
}

TEST(ResultTest, MacrosPropagate) {
  int out = 0;
  EXPECT_TRUE(Quarter(8, &out).ok());
  EXPECT_EQ(out, 2);
  Status s = Quarter(6, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TEST(ResultTest, OkStatusBecomesInternalError) {
  Result<int> r{OkStatus()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(SecretBytesTest, CloneAndCompare) {
  SecretBytes a(std::string_view("pin-1234"), SecretAccess::Get());
  SecretBytes b = a.Clone();
  EXPECT_TRUE(a == b);
  b.MutableBytes(SecretAccess::Get())[0] ^= 1;
  EXPECT_FALSE(a == b);
  EXPECT_FALSE(a == SecretBytes(std::string_view("pin"), SecretAccess::Get()));
  static_assert(!std::is_copy_constructible_v<SecretBytes>);
  static_assert(!std::is_convertible_v<SecretBytes, std::string>);
}

TEST(CtTest, Equal) {
  Bytes a = {1, 2, 3};
  Bytes b = {1, 2, 3};
  Bytes c = {1, 2, 4};
  EXPECT_TRUE(CtEqual(a, b));
  EXPECT_FALSE(CtEqual(a, c));
  EXPECT_FALSE(CtEqual(a, Bytes{1, 2}));
  EXPECT_TRUE(CtEqual(Bytes{}, Bytes{}));
}

TEST(ByteReaderTest, ReadsBigEndianAndStopsAtEnd) {
  Bytes buf;
  ByteWriter<Bytes> w(&buf);
  w.WriteU8(0xab);
  w.WriteU16(0x0102);
  w.WriteU32(0x03040506);
  w.WriteU64(0x0708090a0b0c0d0eULL);
  w.WriteU32LengthPrefixed(Bytes{9, 9});
  ByteReader r(buf);
  uint8_t u8;
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;
  std::span<const uint8_t> body;
  ASSERT_TRUE(r.ReadU8(&u8) && r.ReadU16(&u16) && r.ReadU32(&u32) && r.ReadU64(&u64));
  EXPECT_EQ(u8, 0xab);
  EXPECT_EQ(u16, 0x0102);
  EXPECT_EQ(u32, 0x03040506u);
  EXPECT_EQ(u64, 0x0708090a0b0c0d0eULL);
  ASSERT_TRUE(r.ReadU32LengthPrefixed(&body));
  EXPECT_EQ(body.size(), 2u);
  EXPECT_TRUE(r.empty());
  EXPECT_FALSE(r.ReadU8(&u8));
}

TEST(ByteReaderTest, TruncatedLengthPrefixConsumesNothing) {
  Bytes buf = {0, 0, 0, 5, 1, 2};
  ByteReader r(buf);
  std::span<const uint8_t> body;
  EXPECT_FALSE(r.ReadU32LengthPrefixed(&body));
  EXPECT_EQ(r.remaining(), 6u);
}

TEST(BytesTest, HexRoundTrip) {
  Bytes b = {0x00, 0xff, 0x10};
  EXPECT_EQ(HexEncode(b), "00ff10");
  Bytes out;
  ASSERT_TRUE(HexDecode("00FF10", &out));
  EXPECT_EQ(out, b);
  EXPECT_FALSE(HexDecode("0", &out));
  EXPECT_FALSE(HexDecode("zz", &out));
}

TEST(VaultPermsTest, SharedDirectoryIsRefusedWritableDatabaseWarned) {
  char tmpl[] = "/tmp/cv-perms-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::vector<std::string> warnings;
  EXPECT_TRUE(CheckVaultPermissions(dir + "/absent", geteuid(), &warnings).ok());
  ASSERT_EQ(chmod(dir.c_str(), 0700), 0);
  EXPECT_TRUE(CheckVaultPermissions(dir, geteuid(), &warnings).ok());
  EXPECT_TRUE(warnings.empty());
  for (mode_t mode : {0770, 0703, 0777}) {
    ASSERT_EQ(chmod(dir.c_str(), mode), 0);
    EXPECT_EQ(CheckVaultPermissions(dir, geteuid(), &warnings).code(), StatusCode::kFailedPrecondition) << mode;
  }
  ASSERT_EQ(chmod(dir.c_str(), 0755), 0);  // readable is not writable
  std::ofstream(dir + "/vault.db") << "x";
  ASSERT_EQ(chmod((dir + "/vault.db").c_str(), 0666), 0);
  EXPECT_TRUE(CheckVaultPermissions(dir, geteuid(), &warnings).ok());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("vault.db"), std::string::npos);
  warnings.clear();
  ASSERT_EQ(chmod((dir + "/vault.db").c_str(), 0600), 0);
  EXPECT_TRUE(CheckVaultPermissions(dir, geteuid() + 1, &warnings).ok());
  EXPECT_EQ(warnings.size(), 2u);  // directory and database owned by someone else
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace certvault
