// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Backend::ReplaceCertificate (renewal's swap): one transaction, so another
// application sees the old certificate or the new one, never neither or both;
// a refused replacement changes nothing.
#include <gtest/gtest.h>

#include "src/core/backend.h"
#include "src/core/testing/token_test.h"

namespace certvault {
namespace {

using testing::TokenTest;

AttributeSet Cert(std::string_view label, const Bytes& id, uint8_t value) {
  AttributeSet t;
  t.SetUlong(CKA_CLASS, CKO_CERTIFICATE);
  t.SetUlong(CKA_CERTIFICATE_TYPE, CKC_X_509);
  t.SetBool(CKA_TOKEN, true);
  t.SetString(CKA_LABEL, label);
  t.Set(CKA_ID, id);
  t.Set(CKA_SUBJECT, Bytes{0x30, 0x00});
  t.Set(CKA_VALUE, Bytes(64, value));
  return t;
}

class ReplaceCertificateTest : public TokenTest {
 protected:
  // Matching: the handles of certificates labelled `label`, seen by `b`.
  std::vector<ObjectHandle> Matching(Backend& b, SessionHandle s, std::string_view label) {
    AttributeSet find;
    find.SetUlong(CKA_CLASS, CKO_CERTIFICATE);
    find.SetString(CKA_LABEL, label);
    EXPECT_TRUE(b.FindObjectsInit(s, find).ok());
    auto found = b.FindObjects(s, 16);
    EXPECT_TRUE(b.FindObjectsFinal(s).ok());
    return found.ok() ? *found : std::vector<ObjectHandle>{};
  }
  Bytes ValueOf(Backend& b, SessionHandle s, ObjectHandle h) {
    std::vector<AttributeRequest> req(1);
    req[0].type = CKA_VALUE;
    EXPECT_TRUE(b.GetAttributeValue(s, h, &req).ok());
    return Bytes(req[0].value.begin(), req[0].value.end());
  }
};

TEST_F(ReplaceCertificateTest, NewCertificateTakesTheOldOnesPlace) {
  SessionHandle s = UserSession();
  auto old = backend_->CreateObject(s, Cert("device", {1, 2}, 0xaa));
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  std::unique_ptr<Backend> other = Open();  // another application on the vault
  auto s2 = other->OpenSession(slot_, CKF_SERIAL_SESSION);
  ASSERT_TRUE(s2.ok());
  ASSERT_EQ(Matching(*other, *s2, "device").size(), 1u);

  auto made = backend_->ReplaceCertificate(s, *old, Cert("device", {1, 2}, 0xbb));
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  std::vector<ObjectHandle> seen = Matching(*other, *s2, "device");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], *made);
  EXPECT_EQ(ValueOf(*other, *s2, seen[0]), Bytes(64, 0xbb));
  std::vector<AttributeRequest> req(1);
  req[0].type = CKA_VALUE;
  EXPECT_EQ(backend_->GetAttributeValue(s, *old, &req).reason(), Reason::kObjectHandleInvalid);
}

TEST_F(ReplaceCertificateTest, RefusalsChangeNothing) {
  SessionHandle s = UserSession();
  auto old = backend_->CreateObject(s, Cert("device", {1}, 0xaa));
  ASSERT_TRUE(old.ok());
  AttributeSet data;
  data.SetUlong(CKA_CLASS, CKO_DATA);
  data.SetBool(CKA_TOKEN, true);
  data.SetString(CKA_LABEL, "device");
  // Not a certificate, a session certificate, a template that cannot be made.
  EXPECT_FALSE(backend_->ReplaceCertificate(s, *old, data).ok());
  AttributeSet session_cert = Cert("device", {1}, 0xbb);
  session_cert.SetBool(CKA_TOKEN, false);
  EXPECT_FALSE(backend_->ReplaceCertificate(s, *old, session_cert).ok());
  AttributeSet incomplete = Cert("device", {1}, 0xbb);
  incomplete.Erase(CKA_VALUE);
  EXPECT_FALSE(backend_->ReplaceCertificate(s, *old, incomplete).ok());
  auto data_obj = backend_->CreateObject(s, data);
  ASSERT_TRUE(data_obj.ok());
  EXPECT_FALSE(backend_->ReplaceCertificate(s, *data_obj, Cert("device", {1}, 0xbb)).ok());
  // A read-only session may not change token objects.
  auto ro = backend_->OpenSession(slot_, CKF_SERIAL_SESSION);
  ASSERT_TRUE(ro.ok());
  EXPECT_EQ(backend_->ReplaceCertificate(*ro, *old, Cert("device", {1}, 0xbb)).status().reason(),
            Reason::kSessionReadOnly);

  std::vector<ObjectHandle> seen = Matching(*backend_, s, "device");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], *old);
  EXPECT_EQ(ValueOf(*backend_, s, *old), Bytes(64, 0xaa));
}

// The swap survives a reopen and leaves the object-set integrity whole: the
// other objects of the token still open after it.
TEST_F(ReplaceCertificateTest, SurvivesReopenWithIntegrityIntact) {
  SessionHandle s = UserSession();
  auto old = backend_->CreateObject(s, Cert("device", {7}, 0xaa));
  auto keep = backend_->CreateObject(s, Cert("other", {8}, 0xcc));
  ASSERT_TRUE(old.ok() && keep.ok());
  ASSERT_TRUE(backend_->ReplaceCertificate(s, *old, Cert("device", {7}, 0xbb)).ok());
  backend_.reset();
  backend_ = Open();
  SessionHandle s2 = UserSession();
  std::vector<ObjectHandle> seen = Matching(*backend_, s2, "device");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(ValueOf(*backend_, s2, seen[0]), Bytes(64, 0xbb));
  EXPECT_EQ(ValueOf(*backend_, s2, *keep), Bytes(64, 0xcc));
}

}  // namespace
}  // namespace certvault
