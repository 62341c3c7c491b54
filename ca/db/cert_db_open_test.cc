// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// OpenCertDb refuses what is not this CA's database (issue 12 §1), alike
// for SQLite and PostgreSQL: only `create` (init) makes a schema; a missing,
// empty or foreign database, or one of another CA, is kFailedPrecondition
// and left as it was. Plus the integrity check and the CRL counter moves
// that `crl --after-restore` uses.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ca/db/cert_db.h"
#include "ca/testing/pg_server.h"

namespace certvault::ca {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/cv-ca-open.XXXXXX";
    path_ = mkdtemp(tmpl) != nullptr ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ExpectRefused: OpenCertDb(url) without create fails with kFailedPrecondition
// and a message containing `text`.
void ExpectRefused(const std::string& url, const std::string& name, const std::string& text) {
  auto db = OpenCertDb(url, {false, name});
  ASSERT_FALSE(db.ok()) << url;
  EXPECT_EQ(db.status().code(), StatusCode::kFailedPrecondition) << db.status().ToString();
  EXPECT_NE(std::string(db.status().message()).find(text), std::string::npos) << db.status().ToString();
}

TEST(OpenCertDb, SqliteMissingEmptyForeignAreRefused) {
  TempDir dir;
  std::string path = dir.path() + "/ca.db";
  ExpectRefused("sqlite:" + path, "factory", "no CA database");
  EXPECT_NE(access(path.c_str(), F_OK), 0) << "a missing database was created";
  std::ofstream(path).close();
  ExpectRefused("sqlite:" + path, "factory", "is empty");
  EXPECT_EQ(std::filesystem::file_size(path), 0u) << "an empty database was written to";
  std::filesystem::remove(path);
  {
    auto created = OpenCertDb("sqlite:" + path, {true, "factory"});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    ASSERT_TRUE((*created)->CheckIntegrity().ok());
  }
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(OpenCertDb("sqlite:" + path, {false, "factory"}).ok());
  ExpectRefused("sqlite:" + path, "other", "belongs to CA 'factory'");
}

// A database written before ca_meta (no owner recorded) is adopted by the
// CA whose certificates it holds, and refused by any other.
TEST(OpenCertDb, OwnerlessDatabaseAdoptedOnlyByItsCa) {
  TempDir dir;
  std::string url = "sqlite:" + dir.path() + "/ca.db";
  {
    auto db = OpenCertDb(url, {true, ""});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
  }
  ExpectRefused(url, "factory", "holds no CA 'factory'");
  {
    auto db = OpenCertDb(url, {false, ""});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    CertRecord rec{"factory-issuing", "01", "/CN=a", "device", 1, 2, Bytes{0x30, 0x00}};
    std::vector<bool> inserted;
    ASSERT_TRUE((*db)->InsertCertificates(std::span<const CertRecord>(&rec, 1), "t", inserted).ok());
  }
  EXPECT_TRUE(OpenCertDb(url, {false, "factory"}).ok());
  ExpectRefused(url, "other", "belongs to CA 'factory'");
}

TEST(OpenCertDb, CrlCounterRaisedNeverLowered) {
  TempDir dir;
  auto db = OpenCertDb("sqlite:" + dir.path() + "/ca.db", {true, "factory"});
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(*(*db)->LastCrlNumber("factory-issuing", 0), 0);
  ASSERT_TRUE((*db)->RaiseCrlNumber("factory-issuing", 0, 8).ok());
  EXPECT_EQ(*(*db)->LastCrlNumber("factory-issuing", 0), 7);
  ASSERT_TRUE((*db)->RaiseCrlNumber("factory-issuing", 0, 3).ok());
  EXPECT_EQ(*(*db)->LastCrlNumber("factory-issuing", 0), 7);
}

TEST(OpenCertDb, PostgresEmptyAndOtherCaAreRefused) {
  auto pg = testing::PgServer::Start();
  if (!pg.ok() && pg.status().code() == StatusCode::kNotFound) GTEST_SKIP() << "no PostgreSQL server binaries";
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  const std::string& url = (*pg)->conninfo();
  ExpectRefused(url, "factory", "is empty");
  {
    auto created = OpenCertDb(url, {true, "factory"});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    EXPECT_TRUE((*created)->CheckIntegrity().ok());
  }
  EXPECT_TRUE(OpenCertDb(url, {false, "factory"}).ok());
  ExpectRefused(url, "other", "belongs to CA 'factory'");
}

}  // namespace
}  // namespace certvault::ca
