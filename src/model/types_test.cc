// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/model/types.h"

#include <gtest/gtest.h>

namespace certvault {
namespace {

TEST(AttributeSetTest, SetFindReplaceErase) {
  AttributeSet s;
  s.SetUlong(CKA_CLASS, CKO_PRIVATE_KEY);
  s.SetBool(CKA_SIGN, true);
  s.SetString(CKA_LABEL, "key");
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(s.GetUlong(CKA_CLASS), CKO_PRIVATE_KEY);
  EXPECT_EQ(s.GetBool(CKA_SIGN), true);
  s.SetBool(CKA_SIGN, false);
  EXPECT_EQ(s.GetBool(CKA_SIGN), false);
  EXPECT_EQ(s.size(), 3u);
  EXPECT_TRUE(s.Erase(CKA_SIGN));
  EXPECT_FALSE(s.Has(CKA_SIGN));
  EXPECT_FALSE(s.Erase(CKA_SIGN));
  // Sorted by type.
  EXPECT_EQ(s.items().front().type, static_cast<AttributeType>(CKA_CLASS));
}

TEST(AttributeSetTest, MalformedTypedValuesAreAbsent) {
  AttributeSet s;
  s.SetString(CKA_SIGN, "xx");    // not one byte
  s.SetString(CKA_CLASS, "abc");  // not a CK_ULONG
  EXPECT_FALSE(s.GetBool(CKA_SIGN).has_value());
  EXPECT_FALSE(s.GetUlong(CKA_CLASS).has_value());
  EXPECT_TRUE(s.GetBoolOr(CKA_TOKEN, true));
}

}  // namespace
}  // namespace certvault
