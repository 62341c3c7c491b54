// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/est/enroll_codes.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace certvault::ca::est {
namespace {

class EnrollCodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cv-codes.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string FileText() {
    std::ifstream in(dir_ + "/enroll-codes");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static SecretBytes Pw(const NewCode& c) { return c.password.Clone(); }
  std::string dir_;
};

constexpr int64_t kNow = 1800000000;

TEST_F(EnrollCodesTest, SingleUse) {
  EnrollCodes codes(dir_);
  auto code = codes.Create("device", 3600, kNow);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(FileText().find(std::string(code->password.AsStringView(SecretAccess::Get()))), std::string::npos);
  int used = 0;
  auto use = [&used] {
    ++used;
    return OkStatus();
  };
  EXPECT_TRUE(codes.Redeem(code->id, Pw(*code), "device", kNow + 1, use).ok());
  EXPECT_EQ(codes.Redeem(code->id, Pw(*code), "device", kNow + 2, use).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(used, 1);
}

TEST_F(EnrollCodesTest, RefusalsDoNotRunTheIssuance) {
  EnrollCodes codes(dir_);
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

TEST_F(EnrollCodesTest, FailedIssuanceKeepsTheCode) {
  EnrollCodes codes(dir_);
  auto code = codes.Create("device", 3600, kNow);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(codes.Redeem(code->id, Pw(*code), "device", kNow, [] { return InvalidArgumentError("bad CSR"); }).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(codes.Redeem(code->id, Pw(*code), "device", kNow, [] { return OkStatus(); }).ok());
}

// The code is burnt on disk before the issuance runs: a crash (or a failed
// write) after a certificate may have been issued never leaves it usable.
TEST_F(EnrollCodesTest, CodeIsBurntWhileTheIssuanceRuns) {
  EnrollCodes codes(dir_);
  auto code = codes.Create("device", 3600, kNow);
  ASSERT_TRUE(code.ok());
  std::string during;
  ASSERT_TRUE(codes.Redeem(code->id, Pw(*code), "device", kNow, [&] {
    during = FileText();  // what a crash at this point would leave
    return OkStatus();
  }).ok());
  std::ofstream(dir_ + "/enroll-codes") << during;
  EXPECT_EQ(codes.Redeem(code->id, Pw(*code), "device", kNow, [] { return OkStatus(); }).code(),
            StatusCode::kPermissionDenied);
}

TEST_F(EnrollCodesTest, CodesAreIndependent) {
  EnrollCodes codes(dir_);
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
TEST_F(EnrollCodesTest, MacSecretOnlyForCmpCodes) {
  EnrollCodes codes(dir_);
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

// Lines of the 6-field format (before --cmp) still read.
TEST_F(EnrollCodesTest, ReadsSixFieldLines) {
  EnrollCodes codes(dir_);
  auto code = codes.Create("device", 3600, kNow);
  ASSERT_TRUE(code.ok());
  std::string text = FileText();
  ASSERT_EQ(text.substr(text.size() - 3), " -\n");
  std::ofstream(dir_ + "/enroll-codes", std::ios::trunc) << text.substr(0, text.size() - 3) << "\n";
  EXPECT_TRUE(codes.Redeem(code->id, Pw(*code), "device", kNow, [] { return OkStatus(); }).ok());
}

}  // namespace
}  // namespace certvault::ca::est
