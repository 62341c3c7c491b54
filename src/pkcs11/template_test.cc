// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/pkcs11/template.h"

#include <gtest/gtest.h>

#include <cstring>

namespace certvault::pkcs11 {
namespace {

TEST(TemplateTest, ParsesTypedValues) {
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
  CK_BBOOL yes = CK_TRUE;
  CK_BYTE id[] = {1, 2};
  CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_SIGN, &yes, sizeof(yes)}, {CKA_ID, id, sizeof(id)}};
  auto set = ParseTemplate(t, 3);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->GetUlong(CKA_CLASS), CKO_PRIVATE_KEY);
  EXPECT_EQ(set->GetBool(CKA_SIGN), true);
  EXPECT_EQ(set->Find(CKA_ID)->value.size(), 2u);
}

TEST(TemplateTest, EmptyTemplate) {
  auto set = ParseTemplate(nullptr, 0);
  ASSERT_TRUE(set.ok());
  EXPECT_TRUE(set->empty());
}

TEST(TemplateTest, NullPointers) {
  EXPECT_EQ(ParseTemplate(nullptr, 1).status().reason(), Reason::kArgumentsBad);
  CK_ATTRIBUTE t[] = {{CKA_ID, nullptr, 4}};
  EXPECT_EQ(ParseTemplate(t, 1).status().reason(), Reason::kArgumentsBad);
  CK_ATTRIBUTE empty[] = {{CKA_LABEL, nullptr, 0}};
  EXPECT_TRUE(ParseTemplate(empty, 1).ok());
}

TEST(TemplateTest, DuplicateIsInconsistent) {
  CK_BBOOL yes = CK_TRUE;
  CK_ATTRIBUTE t[] = {{CKA_TOKEN, &yes, 1}, {CKA_TOKEN, &yes, 1}};
  EXPECT_EQ(ParseTemplate(t, 2).status().reason(), Reason::kTemplateInconsistent);
}

TEST(TemplateTest, WrongSizes) {
  CK_ULONG four = 4;
  CK_ATTRIBUTE bool_as_ulong[] = {{CKA_SENSITIVE, &four, sizeof(four)}};
  EXPECT_EQ(ParseTemplate(bool_as_ulong, 1).status().reason(), Reason::kAttributeValueInvalid);
  uint32_t small = 2048;
  CK_ATTRIBUTE short_ulong[] = {{CKA_MODULUS_BITS, &small, sizeof(small)}};
  EXPECT_EQ(ParseTemplate(short_ulong, 1).status().reason(), Reason::kAttributeValueInvalid);
  CK_BYTE three[3] = {};
  CK_ATTRIBUTE mechs[] = {{CKA_ALLOWED_MECHANISMS, three, sizeof(three)}};
  EXPECT_EQ(ParseTemplate(mechs, 1).status().reason(), Reason::kAttributeValueInvalid);
}

TEST(TemplateTest, BoolMustBeZeroOrOne) {
  CK_BBOOL odd = 0x7f;
  CK_ATTRIBUTE t[] = {{CKA_PRIVATE, &odd, 1}};
  EXPECT_EQ(ParseTemplate(t, 1).status().reason(), Reason::kAttributeValueInvalid);
  CK_BBOOL no = CK_FALSE;
  t[0].pValue = &no;
  auto set = ParseTemplate(t, 1);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->GetBool(CKA_PRIVATE), false);
}

TEST(TemplateTest, AllowedMechanismsArray) {
  CK_MECHANISM_TYPE mechs[] = {CKM_ECDSA, CKM_ECDSA_SHA256};
  CK_ATTRIBUTE t[] = {{CKA_ALLOWED_MECHANISMS, mechs, sizeof(mechs)}};
  auto set = ParseTemplate(t, 1);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->Find(CKA_ALLOWED_MECHANISMS)->value.size(), sizeof(mechs));
}

TEST(TemplateTest, AttributeArraysRefused) {
  CK_ATTRIBUTE inner[] = {{CKA_TOKEN, nullptr, 0}};
  CK_ATTRIBUTE t[] = {{CKA_WRAP_TEMPLATE, inner, sizeof(inner)}};
  EXPECT_EQ(ParseTemplate(t, 1).status().reason(), Reason::kAttributeTypeInvalid);
}

TEST(TemplateTest, Bounds) {
  std::vector<CK_ATTRIBUTE> many(kMaxTemplateCount + 1, CK_ATTRIBUTE{CKA_LABEL, nullptr, 0});
  EXPECT_EQ(ParseTemplate(many.data(), many.size()).status().reason(), Reason::kArgumentsBad);
  CK_BYTE b = 0;
  CK_ATTRIBUTE huge[] = {{CKA_VALUE, &b, kMaxAttributeLen + 1}};  // never read: rejected first
  EXPECT_EQ(ParseTemplate(huge, 1).status().reason(), Reason::kAttributeValueInvalid);
}

std::vector<AttributeRequest> Requests() {
  std::vector<AttributeRequest> r(4);
  r[0].type = CKA_LABEL;
  r[0].value = {'a', 'b', 'c'};
  r[1].type = CKA_VALUE;
  r[1].status = Reason::kAttributeSensitive;
  r[2].type = 0x12345;
  r[2].status = Reason::kAttributeTypeInvalid;
  r[3].type = CKA_ID;
  r[3].value = {9};
  return r;
}

TEST(TemplateTest, FillProcessesAllAndRanksSensitiveFirst) {
  CK_BYTE label[8];
  CK_BYTE value[8];
  CK_BYTE unknown[8];
  CK_ATTRIBUTE t[] = {{CKA_LABEL, label, sizeof(label)}, {CKA_VALUE, value, sizeof(value)},
                      {0x12345, unknown, sizeof(unknown)}, {CKA_ID, nullptr, 0}};
  EXPECT_EQ(FillTemplate(Requests(), t, 4), CKR_ATTRIBUTE_SENSITIVE);
  EXPECT_EQ(t[0].ulValueLen, 3u);
  EXPECT_EQ(std::memcmp(label, "abc", 3), 0);
  EXPECT_EQ(t[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(t[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(t[3].ulValueLen, 1u);  // length query
}

TEST(TemplateTest, FillTypeInvalidBeforeTooSmall) {
  auto reqs = Requests();
  reqs[1].status = Reason::kNone;
  reqs[1].value = {1, 2, 3, 4};
  CK_BYTE small[2];
  CK_BYTE unknown[8];
  CK_BYTE label[8];
  CK_ATTRIBUTE t[] = {{CKA_LABEL, label, sizeof(label)}, {CKA_VALUE, small, sizeof(small)},
                      {0x12345, unknown, sizeof(unknown)}, {CKA_ID, nullptr, 0}};
  EXPECT_EQ(FillTemplate(reqs, t, 4), CKR_ATTRIBUTE_TYPE_INVALID);
  EXPECT_EQ(t[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  reqs[2].status = Reason::kNone;
  reqs[2].value = {1};
  t[1].ulValueLen = sizeof(small);
  EXPECT_EQ(FillTemplate(reqs, t, 4), CKR_BUFFER_TOO_SMALL);
  EXPECT_EQ(t[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(t[2].ulValueLen, 1u);
}

TEST(TemplateTest, MakeRequests) {
  CK_ATTRIBUTE t[] = {{CKA_LABEL, nullptr, 0}, {CKA_ID, nullptr, 0}};
  auto reqs = MakeRequests(t, 2);
  ASSERT_TRUE(reqs.ok());
  ASSERT_EQ(reqs->size(), 2u);
  EXPECT_EQ((*reqs)[1].type, CKA_ID);
  EXPECT_EQ(MakeRequests(nullptr, 1).status().reason(), Reason::kArgumentsBad);
}

}  // namespace
}  // namespace certvault::pkcs11
