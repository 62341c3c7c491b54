// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/pkcs11/info.h"

#include <gtest/gtest.h>

#include <string>

namespace certvault::pkcs11 {
namespace {

std::string Field(const CK_UTF8CHAR* p, size_t n) { return std::string(reinterpret_cast<const char*>(p), n); }

TEST(InfoTest, PadFieldBlankPadsWithoutNul) {
  CK_UTF8CHAR out[8];
  PadField("abc", out, sizeof(out));
  EXPECT_EQ(Field(out, 8), "abc     ");
}

TEST(InfoTest, PadFieldTruncatesOnUtf8Boundary) {
  CK_UTF8CHAR out[4];
  // "ab" + U+00E9 (2 bytes) + "z": 5 bytes; 4 fit exactly up to the é.
  PadField("ab\xC3\xA9z", out, sizeof(out));
  EXPECT_EQ(Field(out, 4), "ab\xC3\xA9");
  // "abc" + é: the é would be cut after its first byte, so it is dropped.
  PadField("abc\xC3\xA9", out, sizeof(out));
  EXPECT_EQ(Field(out, 4), "abc ");
  // A 3-byte character (U+20AC) cut anywhere is dropped whole.
  PadField("a\xE2\x82\xAC\xE2\x82\xAC", out, sizeof(out));
  EXPECT_EQ(Field(out, 4), "a\xE2\x82\xAC");
}

TEST(InfoTest, FillInfoReportsVersion30) {
  CK_INFO info;
  FillInfo(&info);
  EXPECT_EQ(info.cryptokiVersion.major, 3);
  EXPECT_EQ(info.cryptokiVersion.minor, 0);
  EXPECT_EQ(Field(info.manufacturerID, 32), "certvault" + std::string(23, ' '));
  EXPECT_EQ(info.flags, 0u);
}

TEST(InfoTest, FillTokenInfo) {
  TokenInfo in;
  in.label = std::string(40, 'L');  // longer than 32: truncated
  in.serial = "0123";
  in.flags = CKF_RNG | CKF_LOGIN_REQUIRED;
  in.max_session_count = CK_EFFECTIVELY_INFINITE;
  in.min_pin_len = 4;
  CK_TOKEN_INFO out;
  FillTokenInfo(in, &out);
  EXPECT_EQ(Field(out.label, 32), std::string(32, 'L'));
  EXPECT_EQ(Field(out.serialNumber, 16), "0123" + std::string(12, ' '));
  EXPECT_EQ(out.flags, CKF_RNG | CKF_LOGIN_REQUIRED);
  EXPECT_EQ(out.ulMinPinLen, 4u);
  EXPECT_EQ(Field(out.utcTime, 16), std::string(16, ' '));
}

TEST(InfoTest, FillSlotAndMechanismInfo) {
  SlotInfo slot;
  slot.description = "certvault slot";
  slot.flags = CKF_TOKEN_PRESENT;
  CK_SLOT_INFO out;
  FillSlotInfo(slot, &out);
  EXPECT_EQ(Field(out.slotDescription, 14), "certvault slot");
  EXPECT_EQ(out.slotDescription[14], ' ');
  EXPECT_EQ(out.flags, CKF_TOKEN_PRESENT);
  MechanismInfo mech{CKM_ECDSA, 256, 521, CKF_SIGN | CKF_VERIFY};
  CK_MECHANISM_INFO mi;
  FillMechanismInfo(mech, &mi);
  EXPECT_EQ(mi.ulMinKeySize, 256u);
  EXPECT_EQ(mi.ulMaxKeySize, 521u);
  EXPECT_EQ(mi.flags, CKF_SIGN | CKF_VERIFY);
}

}  // namespace
}  // namespace certvault::pkcs11
