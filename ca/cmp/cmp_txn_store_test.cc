// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/cmp/cmp_txn_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ca/testing/shared_db.h"

namespace certvault::ca::cmp {
namespace {

// The file of before migration 5 is imported once and renamed; a
// transactionID it names then returns its serial on any server.
TEST(CmpTxnImportTest, ImportsAndRenamesTheFile) {
  auto shared = testing::SharedDb::Create(false);
  ASSERT_TRUE(shared.ok()) << shared.status().ToString();
  const std::string dir = (*shared)->dir();
  auto db = OpenCertDb((*shared)->url());
  ASSERT_TRUE(db.ok());
  EXPECT_TRUE(ImportLegacyTxnFile(dir, **db, "ca-issuing").ok());  // no file: nothing to do
  std::ofstream(dir + "/cmp-transactions") << "aa01 0f 1800000000\nbb02 10 1800000001\n";
  ASSERT_TRUE(ImportLegacyTxnFile(dir, **db, "ca-issuing").ok());
  EXPECT_FALSE(std::filesystem::exists(dir + "/cmp-transactions"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/cmp-transactions.imported"));
  auto claim = (*db)->ClaimCmpTransaction("ca-issuing", "bb02", "k", 1800000100, 300);
  ASSERT_TRUE(claim.ok());
  EXPECT_FALSE(claim->claimed);
  EXPECT_EQ(claim->serial, "10");
}

TEST(CmpTxnImportTest, MalformedFileIsKept) {
  auto shared = testing::SharedDb::Create(false);
  ASSERT_TRUE(shared.ok()) << shared.status().ToString();
  const std::string dir = (*shared)->dir();
  auto db = OpenCertDb((*shared)->url());
  ASSERT_TRUE(db.ok());
  std::ofstream(dir + "/cmp-transactions") << "aa01 0f\n";
  EXPECT_EQ(ImportLegacyTxnFile(dir, **db, "ca-issuing").code(), StatusCode::kDataLoss);
  EXPECT_TRUE(std::filesystem::exists(dir + "/cmp-transactions"));
}

}  // namespace
}  // namespace certvault::ca::cmp
