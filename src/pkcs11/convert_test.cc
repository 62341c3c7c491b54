// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/pkcs11/convert.h"

#include <gtest/gtest.h>

#include <cstring>

namespace certvault::pkcs11 {
namespace {

TEST(ConvertTest, InputSpanRejectsNullWithLength) {
  EXPECT_EQ(InputSpan(nullptr, 3).status().reason(), Reason::kArgumentsBad);
  EXPECT_TRUE(InputSpan(nullptr, 0).ok());
  CK_BYTE buf[3] = {1, 2, 3};
  auto span = InputSpan(buf, 3);
  ASSERT_TRUE(span.ok());
  EXPECT_EQ(span->size(), 3u);
}

TEST(ConvertTest, PinChecks) {
  EXPECT_EQ(PinFrom(nullptr, 4).status().reason(), Reason::kArgumentsBad);
  std::vector<CK_UTF8CHAR> long_pin(kMaxPinLen + 1, 'a');
  EXPECT_EQ(PinFrom(long_pin.data(), long_pin.size()).status().reason(), Reason::kPinLenRange);
  CK_UTF8CHAR pin[] = {'1', '2', '3', '4'};
  auto secret = PinFrom(pin, 4);
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(secret->AsStringView(SecretAccess::Get()), "1234");
}

TEST(ConvertTest, LabelStripsBlankPadding) {
  CK_UTF8CHAR label[32];
  std::memset(label, ' ', sizeof(label));
  std::memcpy(label, "my token", 8);
  auto parsed = LabelFrom(label);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, "my token");
  EXPECT_EQ(LabelFrom(nullptr).status().reason(), Reason::kArgumentsBad);
}

TEST(ConvertTest, UserTypes) {
  EXPECT_EQ(*ToUserType(CKU_SO), UserType::kSo);
  EXPECT_EQ(*ToUserType(CKU_USER), UserType::kUser);
  EXPECT_EQ(*ToUserType(CKU_CONTEXT_SPECIFIC), UserType::kContextSpecific);
  EXPECT_EQ(ToUserType(7).status().reason(), Reason::kUserTypeInvalid);
}

TEST(ConvertTest, WithOutBufConvertsLengths) {
  CK_ULONG len = 4;
  CK_BYTE out[4];
  Status s = WithOutBuf(out, &len, [](OutBuf buf) {
    *buf.len = 10;
    return Status(Reason::kBufferTooSmall);
  });
  EXPECT_EQ(s.reason(), Reason::kBufferTooSmall);
  EXPECT_EQ(len, 10u);
  len = 4;
  s = WithOutBuf(out, &len, [](OutBuf buf) {
    *buf.len = 99;
    return Status(Reason::kDataInvalid);
  });
  EXPECT_EQ(len, 4u) << "other errors leave the length alone";
  EXPECT_EQ(WithOutBuf(out, nullptr, [](OutBuf) { return OkStatus(); }).reason(), Reason::kArgumentsBad);
}

TEST(ConvertTest, FillUlongListFollowsLengthConvention) {
  std::vector<uint64_t> values = {5, 6, 7};
  CK_ULONG count = 0;
  ASSERT_TRUE(FillUlongList(values, nullptr, &count).ok());
  EXPECT_EQ(count, 3u);
  CK_ULONG out[3] = {};
  count = 2;
  EXPECT_EQ(FillUlongList(values, out, &count).reason(), Reason::kBufferTooSmall);
  EXPECT_EQ(count, 3u);
  ASSERT_TRUE(FillUlongList(values, out, &count).ok());
  EXPECT_EQ(out[2], 7u);
  EXPECT_EQ(FillUlongList(values, out, nullptr).reason(), Reason::kArgumentsBad);
}

}  // namespace
}  // namespace certvault::pkcs11
