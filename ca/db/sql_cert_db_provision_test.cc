// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Deliveries and receipts (migration 6) on SQLite and on PostgreSQL (a
// private server, skipped when PostgreSQL is not installed): recorded with
// an audit event each; a receipt closes its delivery once; an unknown
// package, a second receipt and a receipt that names another vault, counter,
// key or signer are refused with nothing changed.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "ca/db/cert_db.h"
#include "ca/testing/pg_server.h"

namespace certvault::ca {
namespace {

class DeliveryDbTest : public ::testing::TestWithParam<bool> {
 protected:
  static void SetUpTestSuite() {
    auto pg = testing::PgServer::Start();
    if (pg.ok()) pg_ = pg->release();
    if (!pg.ok()) pg_status_ = pg.status();
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }
  void SetUp() override {
    std::string url;
    if (GetParam()) {
      if (pg_status_.code() == StatusCode::kNotFound) GTEST_SKIP() << pg_status_.ToString();
      ASSERT_NE(pg_, nullptr) << pg_status_.ToString();
      url = pg_->conninfo();
    } else {
      char tmpl[] = "/tmp/cv-ca-dlv.XXXXXX";
      ASSERT_NE(mkdtemp(tmpl), nullptr);
      dir_ = tmpl;
      url = "sqlite:" + dir_ + "/ca.db";
    }
    auto db = OpenCertDb(url, {true, ""});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }
  void TearDown() override {
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  // Unique per test (the PostgreSQL database is shared by the suite).
  static Delivery Make(const std::string& hash, uint64_t counter) {
    return Delivery{0, "issuing", "00aa" + hash, counter, "key", "k" + hash, "c" + hash, hash, "id" + hash,
                    2000000000, 0, "", "", 0};
  }
  static DeliveryReceipt ReceiptFor(const Delivery& d) {
    return DeliveryReceipt{d.package_hash, d.target_serial, d.counter, d.key_id, d.identity_key, "ok"};
  }
  size_t AuditCount() { return db_->ListAudit(100000)->size(); }

  static testing::PgServer* pg_;
  static Status pg_status_;  // why there is no server
  std::string dir_;
  std::unique_ptr<CertDb> db_;
};
testing::PgServer* DeliveryDbTest::pg_ = nullptr;
Status DeliveryDbTest::pg_status_;

TEST_P(DeliveryDbTest, RecordListAndCloseOnce) {
  std::string h = "rec";
  std::vector<Delivery> ds = {Make(h + "1", 1), Make(h + "2", 2)};
  size_t audit = AuditCount();
  ASSERT_TRUE(db_->RecordDeliveries(ds, "alice").ok());
  EXPECT_EQ(AuditCount(), audit + 2);
  auto listed = db_->ListDeliveries(ds[0].target_serial, 10);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].actor, "alice");
  EXPECT_EQ((*listed)[0].receipt_at, 0);
  EXPECT_EQ((*listed)[0].cert_serial, ds[0].cert_serial);
  auto closed = db_->CloseDelivery(ReceiptFor(ds[0]), "bob");
  ASSERT_TRUE(closed.ok()) << closed.status().ToString();
  EXPECT_EQ(closed->receipt_result, "ok");
  EXPECT_EQ(AuditCount(), audit + 3);
  EXPECT_EQ(db_->ListAudit(1)->at(0).action, "provision-receipt");
  listed = db_->ListDeliveries(ds[0].target_serial, 10);
  EXPECT_NE((*listed)[0].receipt_at, 0);
  EXPECT_GE(db_->ListDeliveries("", 1000)->size(), 2u);
  // A second receipt of the same package: refused, nothing changes.
  EXPECT_EQ(db_->CloseDelivery(ReceiptFor(ds[0]), "bob").status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(AuditCount(), audit + 3);
}

TEST_P(DeliveryDbTest, RefusedReceiptsChangeNothing) {
  std::string h = "ref";
  Delivery d = Make(h, 4);
  ASSERT_TRUE(db_->RecordDeliveries(std::span<const Delivery>(&d, 1), "alice").ok());
  size_t audit = AuditCount();
  DeliveryReceipt unknown = ReceiptFor(d);
  unknown.package_hash = h + "x";
  EXPECT_EQ(db_->CloseDelivery(unknown, "bob").status().code(), StatusCode::kNotFound);
  for (int field = 0; field < 4; ++field) {
    DeliveryReceipt bad = ReceiptFor(d);
    if (field == 0) bad.target_serial += "0";
    if (field == 1) bad.counter += 1;
    if (field == 2) bad.key_id += "0";
    if (field == 3) bad.identity_key += "0";
    Result<Delivery> r = db_->CloseDelivery(bad, "bob");
    EXPECT_EQ(r.status().reason(), Reason::kDataInvalid) << field;
  }
  EXPECT_EQ(AuditCount(), audit);
  EXPECT_EQ((*db_->ListDeliveries(d.target_serial, 10))[0].receipt_at, 0);
  // The same package recorded twice: refused as a whole.
  std::vector<Delivery> again = {Make(h + "new", 1), d};
  EXPECT_EQ(db_->RecordDeliveries(again, "alice").code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(db_->ListDeliveries(again[0].target_serial, 10)->empty());
  EXPECT_EQ(AuditCount(), audit);
  EXPECT_TRUE(db_->CloseDelivery(ReceiptFor(d), "bob").ok());
}

INSTANTIATE_TEST_SUITE_P(Databases, DeliveryDbTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "Postgres" : "Sqlite"; });

}  // namespace
}  // namespace certvault::ca
