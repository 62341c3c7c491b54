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

// A key written by a build before lifecycle states (no state attributes, a
// legacy token without integrity) counts as active, reads back as active, and
// can be transitioned like any other.
TEST_F(IntegrityTest, KeysFromBeforeStatesAreActive) {
  Backend::KeyPair old = GenerateEc("old", {4});
  for (ObjectHandle h : {old.private_key, old.public_key}) {
    Row row = GetRow(h);
    auto header = storage::ParseRecordHeader(row.record);
    auto entries = storage::DecodeRecord(row.record);
    ASSERT_TRUE(header.ok() && entries.ok());
    std::erase_if(*entries, [](const storage::RecordEntry& e) {
      return e.type == kCkaCvKeyState || e.type == kCkaCvKeyStateTime || e.type == kCkaCvKeyStateReason;
    });
    row.record = storage::EncodeRecord(header->mac, storage::EncodeRecordBody(*entries));
    PutRow(h, row);
  }
  MakeLegacyToken({old.private_key, old.public_key});
  ASSERT_TRUE(Restart().ok());
  std::vector<AttributeRequest> req(1);
  req[0].type = kCkaCvKeyState;
  ASSERT_TRUE(backend_->GetAttributeValue(session_, old.private_key, &req).ok());
  EXPECT_EQ(Bytes(req[0].value.begin(), req[0].value.end()), Ulong(kCvStateActive));
  EXPECT_TRUE(SignStatus(old.private_key).ok());
  ASSERT_TRUE(SetState(*backend_, session_, old.private_key, kCvStateDeactivated).ok());
  EXPECT_EQ(SignStatus(old.private_key).reason(), Reason::kKeyFunctionNotPermitted);
}

}  // namespace
}  // namespace certvault
