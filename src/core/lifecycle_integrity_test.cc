// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The lifecycle attributes are covered by the record MAC
// (docs/formats/integrity.md): an offline edit that puts a retired key back to
// active, or rewrites its state time, is refused; the key does not sign.
#include <cstring>

#include "src/core/integrity_test_fixture.h"
#include "src/model/vendor_attributes.h"

namespace certvault {
namespace {

Bytes Ulong(uint64_t v) {
  Bytes b(sizeof v);
  std::memcpy(b.data(), &v, sizeof v);
  return b;
}

Status SetState(Backend& b, SessionHandle s, ObjectHandle key, uint64_t state) {
  AttributeSet t;
  t.SetUlong(kCkaCvKeyState, state);
  return b.SetAttributeValue(s, key, t);
}

TEST_F(IntegrityTest, EditedLifecycleStateIsRefused) {
  Backend::KeyPair retired = GenerateEc("retired", {1});
  Backend::KeyPair stamped = GenerateEc("stamped", {2});
  Backend::KeyPair control = GenerateEc("control", {3});
  ASSERT_TRUE(SetState(*backend_, session_, retired.private_key, kCvStateDeactivated).ok());
  EXPECT_EQ(SignStatus(retired.private_key).reason(), Reason::kKeyFunctionNotPermitted);
  EditRecord(retired.private_key, kCkaCvKeyState, Ulong(kCvStateActive));
  EditRecord(stamped.private_key, kCkaCvKeyStateTime, Ulong(0));
  ASSERT_TRUE(Restart().ok());
  ExpectRefused(SignStatus(retired.private_key));
  ExpectRefused(SignStatus(stamped.private_key));
  EXPECT_TRUE(SignStatus(control.private_key).ok());
}

}  // namespace
}  // namespace certvault
