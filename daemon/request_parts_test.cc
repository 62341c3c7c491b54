// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "daemon/request_parts.h"

#include <gtest/gtest.h>

#include <vector>

namespace certvault::daemon {
namespace {

TEST(RequestPartsTest, JoinsPartsAndRefusesARequestOverItsLimit) {
  PartsBudget budget(100);
  RequestParts parts(&budget, 10);
  const std::vector<uint8_t> a = {1, 2, 3, 4}, b = {5, 6, 7, 8};
  ASSERT_TRUE(parts.Append(a).ok());
  ASSERT_TRUE(parts.Append(b).ok());
  EXPECT_EQ(std::vector<uint8_t>(parts.bytes().begin(), parts.bytes().end()),
            (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(budget.used.load(), 8u);
  EXPECT_EQ(parts.Append(a).reason(), Reason::kDataLenRange);  // 12 > 10
  EXPECT_TRUE(parts.empty());
  EXPECT_EQ(budget.used.load(), 0u);
}

TEST(RequestPartsTest, ConnectionsShareOneBudget) {
  PartsBudget budget(10);
  RequestParts first(&budget, 10), second(&budget, 10);
  const std::vector<uint8_t> six(6, 0x55);
  ASSERT_TRUE(first.Append(six).ok());
  EXPECT_EQ(second.Append(six).reason(), Reason::kDeviceMemory);
  EXPECT_EQ(budget.used.load(), 6u);
  first.Clear();
  EXPECT_EQ(budget.used.load(), 0u);
  EXPECT_TRUE(second.Append(six).ok());
  {
    RequestParts third(&budget, 10);
    ASSERT_TRUE(third.Append(std::vector<uint8_t>(4, 1)).ok());
    EXPECT_EQ(budget.used.load(), 10u);
  }  // gives its share back when the connection ends
  EXPECT_EQ(budget.used.load(), 6u);
}

}  // namespace
}  // namespace certvault::daemon
