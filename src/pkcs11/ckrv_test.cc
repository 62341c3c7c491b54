// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/pkcs11/ckrv.h"

#include <gtest/gtest.h>

namespace certvault::pkcs11 {
namespace {

TEST(CkRvTest, OkIsCkrOk) { EXPECT_EQ(ToCkRv(OkStatus()), CKR_OK); }

TEST(CkRvTest, ReasonsMapPrecisely) {
  EXPECT_EQ(ToCkRv(Status(Reason::kPinIncorrect)), CKR_PIN_INCORRECT);
  EXPECT_EQ(ToCkRv(Status(Reason::kPinLocked)), CKR_PIN_LOCKED);
  EXPECT_EQ(ToCkRv(Status(Reason::kBufferTooSmall)), CKR_BUFFER_TOO_SMALL);
  EXPECT_EQ(ToCkRv(Status(Reason::kOperationActive)), CKR_OPERATION_ACTIVE);
  EXPECT_EQ(ToCkRv(Status(Reason::kAttributeSensitive)), CKR_ATTRIBUTE_SENSITIVE);
  EXPECT_EQ(ToCkRv(Status(Reason::kAttributeReadOnly)), CKR_ATTRIBUTE_READ_ONLY);
  EXPECT_EQ(ToCkRv(Status(Reason::kSessionHandleInvalid)), CKR_SESSION_HANDLE_INVALID);
  EXPECT_EQ(ToCkRv(Status(Reason::kKeyHandleInvalid)), CKR_KEY_HANDLE_INVALID);
  EXPECT_EQ(ToCkRv(Status(Reason::kNotInitialized)), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(ToCkRv(Status(Reason::kCapacityExceeded)), CKR_TOKEN_RESOURCE_EXCEEDED);
  EXPECT_EQ(ToCkRv(Status(Reason::kKeyUsageNotPermitted)), CKR_KEY_FUNCTION_NOT_PERMITTED);
}

TEST(CkRvTest, CodeFallbackWithoutReason) {
  EXPECT_EQ(ToCkRv(InvalidArgumentError("x")), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(ToCkRv(InternalError("x")), CKR_FUNCTION_FAILED);
  EXPECT_EQ(ToCkRv(UnimplementedError("x")), CKR_FUNCTION_NOT_SUPPORTED);
  EXPECT_EQ(ToCkRv(ResourceExhaustedError("x")), CKR_DEVICE_MEMORY);
  EXPECT_EQ(ToCkRv(DataLossError("x")), CKR_DEVICE_ERROR);
}

// Every reason value in the enum's range maps to something other than CKR_OK.
TEST(CkRvTest, NoErrorBecomesOk) {
  for (int r = 0; r < 256; ++r) {
    Status s(StatusCode::kInternal, static_cast<Reason>(r), "x");
    EXPECT_NE(ToCkRv(s), CKR_OK) << r;
  }
  for (int c = 1; c <= 16; ++c) EXPECT_NE(ToCkRv(Status(static_cast<StatusCode>(c), "x")), CKR_OK) << c;
}

}  // namespace
}  // namespace certvault::pkcs11
