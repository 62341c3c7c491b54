// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/provider/pin_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace certvault::provider {
namespace {

std::string Text(const SecretBytes& s) { return std::string(s.AsStringView(SecretAccess::Get())); }

class PinFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cv-pin-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)system(("rm -rf " + dir_).c_str()); }
  std::string Write(const std::string& name, const std::string& contents) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << contents;
    chmod(path.c_str(), 0600);
    return path;
  }
  std::string dir_;
};

TEST_F(PinFileTest, FirstLineOnly) {
  EXPECT_EQ(Text(*ReadPinFile(Write("a", "1234\nsecond\n"))), "1234");
  EXPECT_EQ(Text(*ReadPinFile(Write("b", "12 34\r\n"))), "12 34");
  EXPECT_EQ(Text(*ReadPinFile(Write("c", "no-newline"))), "no-newline");
}

TEST_F(PinFileTest, Errors) {
  auto missing = ReadPinFile(dir_ + "/absent");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(std::string(missing.status().message()).find("absent"), std::string::npos);
  auto empty = ReadPinFile(Write("e", "\nsecret-on-line-2\n"));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(std::string(empty.status().message()).find("secret"), std::string::npos);
}

TEST_F(PinFileTest, FileOthersOrTheOwnersGroupCanReadIsRefused) {
  std::string path = Write("p", "1234\n");
  for (mode_t mode : {0644, 0604, 0620, 0660}) {  // 0640: by owner, below
    chmod(path.c_str(), mode);
    auto pin = ReadPinFile(path);
    ASSERT_FALSE(pin.ok()) << std::oct << mode;
    EXPECT_EQ(pin.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(std::string(pin.status().message()).find("chmod 600"), std::string::npos);
  }
  chmod(path.c_str(), 0400);
  EXPECT_TRUE(ReadPinFile(path).ok());
  // Any group or other bit is refused, whoever owns the file (issue 11 §2):
  // a service reads a file of its own user, root reads it anyway.
  struct stat st = {};
  for (mode_t mode : {0600, 0400, 0700}) {
    st.st_uid = 0;
    st.st_mode = S_IFREG | mode;
    EXPECT_TRUE(CheckPinFileMode(st, "f").ok()) << std::oct << mode;
  }
  for (mode_t mode : {0640, 0620, 0610, 0604, 0602, 0601, 0660, 0644}) {
    for (uid_t owner : {0u, 1000u}) {
      st.st_uid = owner;
      st.st_mode = S_IFREG | mode;
      EXPECT_FALSE(CheckPinFileMode(st, "f").ok()) << std::oct << mode << " owner " << owner;
    }
  }
}

TEST_F(PinFileTest, BoundedRead) {
  std::string big(kMaxPinFileSize * 2, 'x');
  auto pin = ReadPinFile(Write("big", big));
  ASSERT_TRUE(pin.ok());
  EXPECT_EQ(pin->size(), kMaxPinFileSize);
}

TEST(PinFile, FirstLineOfContents) {
  const uint8_t data[] = {'a', 'b', '\r', '\n', 'c'};
  EXPECT_EQ(Text(FirstLine(data)), "ab");
  EXPECT_EQ(FirstLine({}).size(), 0u);
}

}  // namespace
}  // namespace certvault::provider
