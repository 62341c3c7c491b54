// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "ca/db/cert_db.h"

namespace certvault::ca {
namespace {

class SqliteCertDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cv-ca-db.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto db = OpenCertDb("sqlite:" + dir_ + "/ca.db", {true, ""});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  CertRecord Rec(const std::string& serial) {
    return CertRecord{"ca-issuing", serial, "/CN=" + serial, "device", 100, 2000000000, Bytes{0x30, 0x00}};
  }
  std::string dir_;
  std::unique_ptr<CertDb> db_;
};

TEST_F(SqliteCertDbTest, InsertReportsCollisionsPerRow) {
  std::vector<CertRecord> recs = {Rec("01"), Rec("02")};
  std::vector<bool> inserted;
  ASSERT_TRUE(db_->InsertCertificates(recs, "t", inserted).ok());
  EXPECT_EQ(inserted, (std::vector<bool>{true, true}));
  recs = {Rec("03"), Rec("01"), Rec("04"), Rec("04")};
  ASSERT_TRUE(db_->InsertCertificates(recs, "t", inserted).ok());
  EXPECT_EQ(inserted, (std::vector<bool>{true, false, true, false}));
  EXPECT_EQ(*db_->CountCertificates("ca-issuing"), 4);
  std::vector<CertRecord> many;
  for (int i = 0; i < 150; ++i) many.push_back(Rec("1" + std::to_string(1000 + i)));  // spans three statements
  ASSERT_TRUE(db_->InsertCertificates(many, "t", inserted).ok());
  EXPECT_EQ(std::count(inserted.begin(), inserted.end(), true), 150);
  EXPECT_EQ(db_->ListAudit(1000)->size(), 154u);
  auto found = db_->FindBySerial("ca-issuing", "03");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->subject, "/CN=03");
  EXPECT_EQ(db_->FindBySerial("ca-other", "03").status().code(), StatusCode::kNotFound);
}

TEST_F(SqliteCertDbTest, RevokeIsAllOrNothing) {
  std::vector<CertRecord> recs = {Rec("01"), Rec("02")};
  std::vector<bool> inserted;
  ASSERT_TRUE(db_->InsertCertificates(recs, "t", inserted).ok());
  std::vector<Revocation> revs = {{"01", 1, 0}, {"99", 1, 0}};
  EXPECT_EQ(db_->Revoke("ca-issuing", revs, 500, "t").code(), StatusCode::kNotFound);
  EXPECT_FALSE(db_->FindBySerial("ca-issuing", "01")->revoked);  // rolled back
  revs = {{"01", 1, 400}};
  ASSERT_TRUE(db_->Revoke("ca-issuing", revs, 500, "t").ok());
  EXPECT_EQ(db_->Revoke("ca-issuing", revs, 501, "t").code(), StatusCode::kFailedPrecondition);
  auto r = db_->FindBySerial("ca-issuing", "01");
  EXPECT_TRUE(r->revoked);
  EXPECT_EQ(r->reason, 1);
  EXPECT_EQ(r->invalidity_date, 400);
  auto entries = db_->Revoked("ca-issuing", 0, 1000, 0, 1);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].serial_len, 1);
  EXPECT_EQ((*entries)[0].serial[0], 0x01);
  // Expired certificates drop off.
  EXPECT_TRUE(db_->Revoked("ca-issuing", 0, 2000000001, 0, 1)->empty());
  EXPECT_TRUE(db_->Revoked("ca-issuing", (*entries)[0].id, 1000, 0, 1)->empty());
}

TEST_F(SqliteCertDbTest, CrlNumbersIncreaseAcrossFullAndDelta) {
  auto build = [](CrlRecord& r) -> Result<Bytes> { return Bytes{static_cast<uint8_t>(r.number)}; };
  CrlRecord full{"ca-issuing"};
  auto a = db_->StoreCrl(full, "t", build);
  CrlRecord delta{"ca-issuing"};
  delta.delta = true;
  auto b = db_->StoreCrl(delta, "t", build);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->number, 1);
  EXPECT_EQ(b->number, 2);
  EXPECT_EQ(db_->LatestCrl("ca-issuing", false, 0)->number, 1);
  EXPECT_EQ(db_->LatestCrl("ca-issuing", true, 0)->der, Bytes{2});
  auto failing = [](CrlRecord&) -> Result<Bytes> { return InternalError("token gone"); };
  EXPECT_FALSE(db_->StoreCrl(full, "t", failing).ok());
  EXPECT_EQ(db_->StoreCrl(full, "t", build)->number, 3);  // the failed number was rolled back
  auto audit = db_->ListAudit(10);
  ASSERT_TRUE(audit.ok());
  EXPECT_EQ(audit->size(), 3u);
}

TEST(PartitionOf, StableAndBounded) {
  EXPECT_EQ(PartitionOf("ff", 1), 0u);
  EXPECT_EQ(PartitionOf("0104", 4), 0u);
  EXPECT_EQ(PartitionOf("0107", 4), 3u);
}

}  // namespace
}  // namespace certvault::ca
