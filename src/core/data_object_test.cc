// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Data objects whose CKA_VALUE is sealed (CKO_DATA, CKA_PRIVATE=TRUE) through
// their whole life: create, C_SetAttributeValue, C_CopyObject, reopen. The
// value must read back as last written and never reach the disk in clear.
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "src/core/backend.h"
#include "src/core/testing/token_test.h"

namespace certvault {
namespace {

using testing::Pin;

class DataObjectTest : public testing::TokenTest {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    session_ = UserSession();
  }
  ObjectHandle CreateData(bool token, std::string_view value) {
    AttributeSet data;
    data.SetUlong(CKA_CLASS, CKO_DATA);
    data.SetBool(CKA_TOKEN, token);
    data.SetBool(CKA_PRIVATE, true);
    data.SetString(CKA_LABEL, "note");
    data.SetString(CKA_VALUE, value);
    auto obj = backend_->CreateObject(session_, data);
    EXPECT_TRUE(obj.ok()) << obj.status().ToString();
    return obj.ok() ? *obj : 0;
  }
  Status SetValue(ObjectHandle obj, std::string_view value) {
    AttributeSet change;
    change.SetString(CKA_VALUE, value);
    return backend_->SetAttributeValue(session_, obj, change);
  }
  // ReadValue: CKA_VALUE of `obj`, or the failure as "error: <status>".
  std::string ReadValue(ObjectHandle obj) {
    std::vector<AttributeRequest> req(1);
    req[0].type = CKA_VALUE;
    Status st = backend_->GetAttributeValue(session_, obj, &req);
    if (!st.ok()) return "error: " + st.ToString();
    return std::string(req[0].value.begin(), req[0].value.end());
  }
  std::string VaultBytes() {
    std::string all;
    for (const auto& e : std::filesystem::directory_iterator(dir_ + "/vault")) {
      std::ifstream in(e.path(), std::ios::binary);
      all += std::string(std::istreambuf_iterator<char>(in), {});
    }
    return all;
  }

  SessionHandle session_ = 0;
};

TEST_F(DataObjectTest, PrivateTokenDataValueCanBeChanged) {
  ObjectHandle obj = CreateData(/*token=*/true, "first-value");
  ASSERT_EQ(ReadValue(obj), "first-value");
  const std::string second = "second-value-that-must-stay-sealed";
  ASSERT_TRUE(SetValue(obj, second).ok());
  EXPECT_EQ(ReadValue(obj), second);
  ASSERT_TRUE(SetValue(obj, "third-value").ok());
  EXPECT_EQ(ReadValue(obj), "third-value");

  // A fresh process reads the stored record, verified and opened.
  backend_.reset();
  backend_ = Open();
  session_ = UserSession();
  EXPECT_EQ(ReadValue(obj), "third-value");
  backend_.reset();
  const std::string disk = VaultBytes();
  EXPECT_EQ(disk.find(second), std::string::npos);
  EXPECT_EQ(disk.find("third-value"), std::string::npos);
  EXPECT_NE(disk.find("note"), std::string::npos);  // sanity: the files were read
}

TEST_F(DataObjectTest, PrivateSessionDataValueCanBeChanged) {
  ObjectHandle obj = CreateData(/*token=*/false, "first-value");
  ASSERT_TRUE(SetValue(obj, "second-value").ok());
  EXPECT_EQ(ReadValue(obj), "second-value");
}

TEST_F(DataObjectTest, CopyTakesTheTemplateValue) {
  ObjectHandle obj = CreateData(/*token=*/true, "original");
  AttributeSet tmpl;
  tmpl.SetString(CKA_VALUE, "copied-with-a-new-value");
  auto copy = backend_->CopyObject(session_, obj, tmpl);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(ReadValue(*copy), "copied-with-a-new-value");
  EXPECT_EQ(ReadValue(obj), "original");
  auto plain = backend_->CopyObject(session_, obj, AttributeSet());
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(ReadValue(*plain), "original");
}

TEST_F(DataObjectTest, PublicTokenDataValueCanBeChanged) {
  AttributeSet data;
  data.SetUlong(CKA_CLASS, CKO_DATA);
  data.SetBool(CKA_TOKEN, true);
  data.SetBool(CKA_PRIVATE, false);
  data.SetString(CKA_VALUE, "public-one");
  auto obj = backend_->CreateObject(session_, data);
  ASSERT_TRUE(obj.ok()) << obj.status().ToString();
  ASSERT_TRUE(SetValue(*obj, "public-two").ok());
  EXPECT_EQ(ReadValue(*obj), "public-two");
}

}  // namespace
}  // namespace certvault
