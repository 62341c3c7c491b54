// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>
#include <openssl/asn1.h>

#include "ca/der/der_reader.h"
#include "ca/der/der_writer.h"

namespace certvault::ca::der {
namespace {

TEST(DerWriter, LengthForms) {
  Bytes out;
  AppendHeader(out, kSequence, 0x7f);
  EXPECT_EQ(out, (Bytes{0x30, 0x7f}));
  out.clear();
  AppendHeader(out, kSequence, 0x80);
  EXPECT_EQ(out, (Bytes{0x30, 0x81, 0x80}));
  out.clear();
  AppendHeader(out, kSequence, 0x10000);
  EXPECT_EQ(out, (Bytes{0x30, 0x83, 0x01, 0x00, 0x00}));
  EXPECT_EQ(HeaderSize(0x10000), 5u);
}

TEST(DerWriter, IntegersAreMinimalAndPositive) {
  Bytes out;
  AppendUnsignedInteger(out, Bytes{0x00, 0x00, 0x7f});
  EXPECT_EQ(out, (Bytes{0x02, 0x01, 0x7f}));
  out.clear();
  AppendUnsignedInteger(out, Bytes{0x80});
  EXPECT_EQ(out, (Bytes{0x02, 0x02, 0x00, 0x80}));
  out.clear();
  AppendSmallInteger(out, kInteger, 0);
  EXPECT_EQ(out, (Bytes{0x02, 0x01, 0x00}));
  out.clear();
  AppendSmallInteger(out, kInteger, 256);
  EXPECT_EQ(out, (Bytes{0x02, 0x02, 0x01, 0x00}));
}

TEST(DerWriter, TimesParseWithOpenSsl) {
  for (time_t t : {time_t{0}, time_t{1700000000}, time_t{2524608000} /* 2050 */}) {
    Bytes out;
    AppendTime(out, t);
    EXPECT_EQ(out[0], t >= 2524608000 ? kGeneralizedTime : kUtcTime);
    const uint8_t* p = out.data();
    ASN1_TIME* parsed = d2i_ASN1_TIME(nullptr, &p, static_cast<long>(out.size()));
    ASSERT_NE(parsed, nullptr);
    int day = 0, sec = 0;
    ASN1_TIME* ref = ASN1_TIME_set(nullptr, t);
    ASSERT_EQ(ASN1_TIME_diff(&day, &sec, parsed, ref), 1);
    EXPECT_EQ(day, 0);
    EXPECT_EQ(sec, 0);
    ASN1_TIME_free(parsed);
    ASN1_TIME_free(ref);
  }
}

TEST(DerReader, RoundTripAndRejects) {
  Bytes inner(300, 0xab);
  Bytes tlv = Wrap(kOctetString, inner);
  DerReader r(tlv);
  std::span<const uint8_t> contents;
  ASSERT_TRUE(r.Expect(kOctetString, &contents));
  EXPECT_EQ(contents.size(), 300u);
  EXPECT_TRUE(r.empty());
  // Truncated, non-minimal length, indefinite length, wrong tag.
  Bytes truncated(tlv.begin(), tlv.end() - 1);
  EXPECT_FALSE(DerReader(truncated).Expect(kOctetString, &contents));
  EXPECT_FALSE(DerReader(Bytes{0x04, 0x81, 0x05, 1, 2, 3, 4, 5}).Expect(kOctetString, &contents));
  EXPECT_FALSE(DerReader(Bytes{0x30, 0x80, 0x00, 0x00}).Expect(kSequence, &contents));
  DerReader wrong(tlv);
  EXPECT_FALSE(wrong.Expect(kSequence, &contents));
  EXPECT_TRUE(wrong.Expect(kOctetString, &contents));  // a failed Expect consumes nothing
}

}  // namespace
}  // namespace certvault::ca::der
