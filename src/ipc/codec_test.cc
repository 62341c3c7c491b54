// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The IPC codec: round trips of every field type, and rejection of
// malformed frames and bodies (truncation, bad tags, unsorted sets, counts
// larger than the bytes).
#include "src/ipc/codec.h"

#include <gtest/gtest.h>

namespace certvault::ipc {
namespace {

TEST(WireTest, FrameRoundTrip) {
  WireBuffer buf;
  BeginFrame(&buf, kRequest, Op::kSign);
  Encoder e(&buf);
  Put(e, uint64_t{7});
  EndFrame(&buf);
  FrameHeader h;
  std::span<const uint8_t> body;
  ASSERT_TRUE(DecodeFrame(buf, kRequest, kDefaultMaxFrame, &h, &body).ok());
  EXPECT_EQ(h.op, static_cast<uint16_t>(Op::kSign));
  EXPECT_EQ(h.cpu, 0u);
  EXPECT_EQ(body.size(), 8u);
  SetFrameCpu(&buf, 0x0102);
  ASSERT_TRUE(DecodeFrame(buf, kRequest, kDefaultMaxFrame, &h, &body).ok());
  EXPECT_EQ(h.cpu, 0x0102u);
  ASSERT_EQ(body.size(), 8u);
  EXPECT_EQ(body[7], 7u);
  EXPECT_FALSE(DecodeFrame(buf, kResponse, kDefaultMaxFrame, &h, &body).ok());  // wrong type
  EXPECT_FALSE(DecodeFrame(std::span(buf).first(buf.size() - 1), kRequest, kDefaultMaxFrame, &h, &body).ok());
  EXPECT_FALSE(DecodeFrame(buf, kRequest, 8, &h, &body).ok());  // over the limit
  buf[4] = 1;                                                   // version 1 (no cpu field): refused
  EXPECT_FALSE(DecodeFrame(buf, kRequest, kDefaultMaxFrame, &h, &body).ok());
}

TEST(WireTest, RejectsUnknownOpAndShortLength) {
  const uint8_t unknown_op[] = {0, 0, 0, 6, kWireVersion, kRequest, 0xff, 0xff, 0, 0};
  const uint8_t short_len[] = {0, 0, 0, 4, kWireVersion, kRequest, 0, 3};
  FrameHeader h;
  std::span<const uint8_t> body;
  EXPECT_FALSE(DecodeFrame(unknown_op, kRequest, kDefaultMaxFrame, &h, &body).ok());
  EXPECT_FALSE(DecodeFrame(short_len, kRequest, kDefaultMaxFrame, &h, &body).ok());
  EXPECT_FALSE(ParseLength(unknown_op, 5).ok());
}

TEST(CodecTest, RoundTripsEveryType) {
  WireBuffer buf;
  Encoder e(&buf);
  AttributeSet set;
  set.SetBool(CKA_TOKEN, true);
  set.SetString(CKA_LABEL, "k");
  GcmParams gcm{{1, 2, 3}, 96, {4}, 128};
  TokenInfo info;
  info.label = "label";
  info.flags = 0x40d;
  info.hardware_version[1] = 9;
  std::vector<AttributeRequest> reqs(2);
  reqs[0].type = CKA_VALUE;
  reqs[0].value = {1, 2};
  reqs[1].status = Reason::kAttributeSensitive;
  PutAll(e, set, Mechanism{CKM_AES_GCM, gcm}, info, Status(Reason::kPinIncorrect, "bad"), OutSpec{true, 64});
  PutAttributeReplies(e, reqs);
  Decoder d(buf);
  AttributeSet set2;
  Mechanism mech;
  TokenInfo info2;
  Status st;
  OutSpec spec;
  ASSERT_TRUE(GetFields(d, &set2, &mech, &info2, &st, &spec));
  std::vector<AttributeRequest> reqs2(2);
  ASSERT_TRUE(GetAttributeReplies(d, &reqs2));
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(set2.GetBool(CKA_TOKEN), true);
  EXPECT_EQ(mech.type, CKM_AES_GCM);
  ASSERT_TRUE(std::holds_alternative<GcmParams>(mech.params));
  EXPECT_EQ(std::get<GcmParams>(mech.params).iv, (Bytes{1, 2, 3}));
  EXPECT_EQ(info2.label, "label");
  EXPECT_EQ(info2.hardware_version[1], 9);
  EXPECT_EQ(st.reason(), Reason::kPinIncorrect);
  EXPECT_EQ(st.code(), CanonicalCodeFor(Reason::kPinIncorrect));
  EXPECT_TRUE(spec.has_buffer);
  EXPECT_EQ(reqs2[0].value, reqs[0].value);
  EXPECT_EQ(reqs2[1].status, Reason::kAttributeSensitive);
}

TEST(CodecTest, RoundTripsAesCtrParams) {
  WireBuffer buf;
  Encoder e(&buf);
  PutAll(e, Mechanism{CKM_AES_CTR, AesCtrParams{32, Bytes(16, 5)}}, UserType::kContextSpecific);
  Decoder d(buf);
  Mechanism mech;
  UserType user = UserType::kUser;
  ASSERT_TRUE(GetFields(d, &mech, &user));
  EXPECT_TRUE(d.empty());
  ASSERT_TRUE(std::holds_alternative<AesCtrParams>(mech.params));
  EXPECT_EQ(std::get<AesCtrParams>(mech.params).counter_bits, 32u);
  EXPECT_EQ(std::get<AesCtrParams>(mech.params).counter_block, Bytes(16, 5));
  EXPECT_EQ(user, UserType::kContextSpecific);
}

TEST(CodecTest, RejectsMalformedBodies) {
  // An attribute set whose types are not strictly increasing.
  WireBuffer buf;
  Encoder e(&buf);
  e.WriteU32(2);
  e.WriteU64(5);
  e.WriteU32(0);
  e.WriteU64(5);
  e.WriteU32(0);
  Decoder d(buf);
  AttributeSet set;
  EXPECT_FALSE(Get(d, &set));
  // A count that the bytes cannot hold.
  const uint8_t huge_count[] = {0xff, 0xff, 0xff, 0xff, 0};
  Decoder d2(huge_count);
  std::vector<uint64_t> v;
  EXPECT_FALSE(Get(d2, &v));
  // An unknown mechanism parameter tag; a bool that is not 0/1.
  const uint8_t bad_mech[] = {0, 0, 0, 0, 0, 0, 0x10, 0x41, 99};
  Decoder d3(bad_mech);
  Mechanism m;
  EXPECT_FALSE(Get(d3, &m));
  const uint8_t bad_bool[] = {2};
  Decoder d4(bad_bool);
  bool b;
  EXPECT_FALSE(Get(d4, &b));
  // A status with an out-of-range code; an OK status with a reason.
  const uint8_t bad_status[] = {99, 0, 0, 0, 0};
  const uint8_t ok_reason[] = {0, 0, 1, 0, 0};
  Decoder d5(bad_status), d6(ok_reason);
  Status s;
  EXPECT_FALSE(Get(d5, &s));
  EXPECT_FALSE(Get(d6, &s));
}

}  // namespace
}  // namespace certvault::ipc
