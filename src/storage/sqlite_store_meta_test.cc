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

// The prefix of ListMetaRows/DeleteMetaRows is literal: '%' and '_' are not wildcards.
TEST(MetaRowsTest, PrefixIsLiteral) {
  TempDir dir;
  std::unique_ptr<Store> store = MustOpen(dir.File("vault.db"));
  ASSERT_NE(store, nullptr);
  const Bytes v = {1, 2, 3};
  for (const char* key : {"quorum/1/a", "quorum/1/b", "quorum/10/a", "quorum%1/x", "quorum_1/y"}) {
    ASSERT_TRUE(store->PutMetaRow(key, v).ok());
  }
  auto rows = store->ListMetaRows("quorum/1/");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].first, "quorum/1/a");
  EXPECT_EQ((*rows)[1].second, v);
  ASSERT_TRUE(store->DeleteMetaRows("quorum/1/").ok());
  EXPECT_FALSE(store->GetMetaRow("quorum/1/a").ok());
  EXPECT_TRUE(store->GetMetaRow("quorum/10/a").ok());
  EXPECT_TRUE(store->GetMetaRow("quorum%1/x").ok());
  EXPECT_TRUE(store->GetMetaRow("quorum_1/y").ok());
  EXPECT_EQ(store->GetMetaRow("absent").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace certvault::storage
