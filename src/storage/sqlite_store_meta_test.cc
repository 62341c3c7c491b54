// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "src/storage/store_test_util.h"

namespace certvault::storage {
namespace {

using testing::MustOpen;
using testing::TempDir;

TEST(TrustedTimeTest, OnlyRisesAndSurvivesReopen) {
  TempDir dir;
  {
    std::unique_ptr<Store> store = MustOpen(dir.File("vault.db"));
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(*store->RaiseTrustedTime(1000), 1000);
    EXPECT_EQ(*store->RaiseTrustedTime(2000), 2000);
    EXPECT_EQ(*store->RaiseTrustedTime(1500), 2000);  // an older clock reading never lowers it
  }
  std::unique_ptr<Store> reopened = MustOpen(dir.File("vault.db"), false);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(*reopened->RaiseTrustedTime(0), 2000);
}

}  // namespace
}  // namespace certvault::storage
