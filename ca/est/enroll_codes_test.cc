// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/est/enroll_codes.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "ca/db/cert_db.h"
#include "ca/testing/shared_db.h"
#include "src/base/bytes.h"

namespace certvault::ca::est {
namespace {

class EnrollCodesTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    auto db = testing::SharedDb::Create(GetParam());
    if (db.status().code() == StatusCode::kNotFound) GTEST_SKIP() << db.status().ToString();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    shared_ = std::move(*db);
    dir_ = shared_->dir();
  }
  // Codes: another EnrollCodes on the same database (another serve process).
  std::unique_ptr<EnrollCodes> Codes() { return std::make_unique<EnrollCodes>(dir_, shared_->url()); }
  std::unique_ptr<CertDb> Db() {
    auto db = OpenCertDb(shared_->url());
    EXPECT_TRUE(db.ok());
    return db.ok() ? std::move(*db) : nullptr;
  }
  static SecretBytes Pw(const NewCode& c) { return c.password.Clone(); }
  std::unique_ptr<testing::SharedDb> shared_;
  std::string dir_;
};

constexpr int64_t kNow = 1800000000;

TEST_P(EnrollCodesTest, SingleUse) {
  auto owned = Codes();
  EnrollCodes& codes = *owned;
  auto code = codes.Create("device", 3600, kNow);
  ASSERT_TRUE(code.ok());
  auto row = Db()->FindEnrollCode(code->id);  // the password itself is not stored
  ASSERT_TRUE(row.ok());
  EXPECT_TRUE(row->secret.empty());
  int used = 0;
  auto use = [&used] {
    ++used;
    return OkStatus();
  };
  EXPECT_TRUE(codes.Redeem(code->id, Pw(*code), "device", kNow + 1, use).ok());
  EXPECT_EQ(codes.Redeem(code->id, Pw(*code), "device", kNow + 2, use).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(used, 1);
}

TEST_P(EnrollCodesTest, RefusalsDoNotRunTheIssuance) {
  auto owned = Codes();
  EnrollCodes& codes = *owned;
  auto code = codes.Create("device", 3600, kNow);
  ASSERT_TRUE(code.ok());
  bool ran = false;
  auto use = [&ran] {
    ran = true;
    return OkStatus();
  };
  EXPECT_EQ(codes.Redeem("nosuch", Pw(*code), "device", kNow, use).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(codes.Redeem(code->id, SecretBytes("wrong", SecretAccess::Get()), "device", kNow, use).code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(codes.Redeem(code->id, Pw(*code), "server", kNow, use).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(codes.Redeem(code->id, Pw(*code), "device", kNow + 3601, use).code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(ran);
  EXPECT_TRUE(codes.Redeem(code->id, Pw(*code), "device", kNow + 10, use).ok());
}

TEST_P(EnrollCodesTest, FailedIssuanceKeepsTheCode) {
  auto owned = Codes();
  EnrollCodes& codes = *owned;
  auto code = codes.Create("device", 3600, kNow);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(codes.Redeem(code->id, Pw(*code), "device", kNow, [] { return InvalidArgumentError("bad CSR"); }).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(codes.Redeem(code->id, Pw(*code), "device", kNow, [] { return OkStatus(); }).ok());
}

// The code is burnt in the database before the issuance runs: another
// server redeeming it meanwhile is refused, and a crash after a certificate
// may have been issued never leaves it usable.
TEST_P(EnrollCodesTest, CodeIsBurntWhileTheIssuanceRuns) {
  auto owned = Codes();
  EnrollCodes& codes = *owned;
  auto code = codes.Create("device", 3600, kNow);
  ASSERT_TRUE(code.ok());
  auto other = Codes();
  bool other_ran = false;
  Status during;
  ASSERT_TRUE(codes
                  .Redeem(code->id, Pw(*code), "device", kNow,
                          [&] {
                            during = other->Redeem(code->id, Pw(*code), "device", kNow, [&] {
                              other_ran = true;
                              return OkStatus();
                            });
                            return OkStatus();
                          })
                  .ok());
  EXPECT_EQ(during.code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(other_ran);
  EXPECT_EQ(Db()->FindEnrollCode(code->id)->used, kNow);
}

// Servers redeeming one code at the same moment: exactly one issues.
TEST_P(EnrollCodesTest, ConcurrentRedeemsIssueOnce) {
  auto code = Codes()->Create("device", 3600, kNow);
  ASSERT_TRUE(code.ok());
  std::vector<std::unique_ptr<EnrollCodes>> servers;
  for (int i = 0; i < 6; ++i) servers.push_back(Codes());
  std::atomic<int> issued{0}, refused{0};
  std::vector<std::thread> threads;
  for (auto& s : servers) {
    threads.emplace_back([&, srv = s.get()] {
      Status st = srv->Redeem(code->id, Pw(*code), "device", kNow, [&] {
        issued++;
        return OkStatus();
      });
      if (st.code() == StatusCode::kPermissionDenied) refused++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(issued.load(), 1);
  EXPECT_EQ(refused.load(), 5);
}

TEST_P(EnrollCodesTest, CodesAreIndependent) {
  auto owned = Codes();
  EnrollCodes& codes = *owned;
  auto a = codes.Create("device", 3600, kNow);
  auto b = codes.Create("device", 3600, kNow);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->id, b->id);
  EXPECT_EQ(codes.Redeem(a->id, Pw(*b), "device", kNow, [] { return OkStatus(); }).code(),
            StatusCode::kUnauthenticated);
  EXPECT_TRUE(codes.Redeem(b->id, Pw(*b), "device", kNow, [] { return OkStatus(); }).ok());
  EXPECT_TRUE(codes.Redeem(a->id, Pw(*a), "device", kNow, [] { return OkStatus(); }).ok());
}

// A code made for CMP keeps its password for MAC verification; a plain
// one does not, and MacSecret does not reveal a password it never kept.
TEST_P(EnrollCodesTest, MacSecretOnlyForCmpCodes) {
  auto owned = Codes();
  EnrollCodes& codes = *owned;
  auto plain = codes.Create("device", 3600, kNow);
  auto cmp = codes.Create("device", 3600, kNow, /*keep_secret=*/true);
  ASSERT_TRUE(plain.ok() && cmp.ok());
  EXPECT_EQ(codes.MacSecret(plain->id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(codes.MacSecret("cunknown").status().code(), StatusCode::kNotFound);
  auto secret = codes.MacSecret(cmp->id);
  ASSERT_TRUE(secret.ok());
  EXPECT_TRUE(*secret == cmp->password);
  // Still verifiable after use (a retransmitted ir), and still single use.
  ASSERT_TRUE(codes.Redeem(cmp->id, Pw(*cmp), "device", kNow, [] { return OkStatus(); }).ok());
  EXPECT_TRUE(codes.MacSecret(cmp->id).ok());
  EXPECT_EQ(codes.Redeem(cmp->id, Pw(*cmp), "device", kNow, [] { return OkStatus(); }).code(),
            StatusCode::kPermissionDenied);
}

// The file store of before migration 5 (DIR/enroll-codes, 6- and 7-field
// lines) is imported on first use and renamed; used codes stay used.
TEST_P(EnrollCodesTest, ImportsTheLegacyFile) {
  // sha256(salt 00*16 || "pw-one") etc. are not needed: the imported hash is
  // checked by Redeem, so use a code made here and written out as a line.
  const std::string salt(32, '0');
  auto hash_of = [](const std::string& pw) {
    unsigned char md[32];
    unsigned int n = 0;
    std::string in(16, '\0');
    in += pw;
    EVP_Digest(in.data(), in.size(), md, &n, EVP_sha256(), nullptr);
    return HexEncode(Bytes(md, md + 32));
  };
  std::string pw_hex = HexEncode(Bytes{'p', 'w', '-', 'c', 'm', 'p'});
  std::ofstream(dir_ + "/enroll-codes") << "cold1 device " << kNow + 3600 << " 0 " << salt << " " << hash_of("pw-one")
                                        << "\n"
                                        << "cold2 device " << kNow + 3600 << " " << kNow - 5 << " " << salt << " "
                                        << hash_of("pw-two") << " -\n"
                                        << "cold3 device " << kNow + 3600 << " 0 " << salt << " " << hash_of("pw-cmp")
                                        << " " << pw_hex << "\n";
  auto owned = Codes();
  EnrollCodes& codes = *owned;
  auto ok = [] { return OkStatus(); };
  EXPECT_TRUE(codes.Redeem("cold1", SecretBytes("pw-one", SecretAccess::Get()), "device", kNow, ok).ok());
  EXPECT_EQ(codes.Redeem("cold2", SecretBytes("pw-two", SecretAccess::Get()), "device", kNow, ok).code(),
            StatusCode::kPermissionDenied);
  auto secret = codes.MacSecret("cold3");
  ASSERT_TRUE(secret.ok());
  EXPECT_TRUE(*secret == SecretBytes("pw-cmp", SecretAccess::Get()));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/enroll-codes"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/enroll-codes.imported"));
  // Another server on the same database sees the same state.
  EXPECT_EQ(Codes()->Redeem("cold1", SecretBytes("pw-one", SecretAccess::Get()), "device", kNow, ok).code(),
            StatusCode::kPermissionDenied);
}

// On SQLite; the database operations under these (burn, give back, the
// race between processes) are tested on both backends in
// ca/db/sql_cert_db_shared_test.cc, and end to end on PostgreSQL by
// tests/ca/ca_pg_serve_test.sh.
INSTANTIATE_TEST_SUITE_P(Backends, EnrollCodesTest, ::testing::Values(false),
                         [](const auto& p) { return p.param ? "Postgres" : "Sqlite"; });

}  // namespace
}  // namespace certvault::ca::est
