// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/provider/errors.h"

#include <gtest/gtest.h>

#include <set>
#include <string_view>

namespace certvault::provider {
namespace {

TEST(ProviderErrors, PreciseReasons) {
  EXPECT_EQ(ToProviderReason(Status(Reason::kPinIncorrect)), ProviderReason::kPinIncorrect);
  EXPECT_EQ(ToProviderReason(Status(Reason::kPinLocked)), ProviderReason::kPinLocked);
  EXPECT_EQ(ToProviderReason(Status(Reason::kUserNotLoggedIn)), ProviderReason::kPinRequired);
  EXPECT_EQ(ToProviderReason(Status(Reason::kKeyFunctionNotPermitted)), ProviderReason::kNotPermitted);
  EXPECT_EQ(ToProviderReason(Status(Reason::kMechanismInvalid)), ProviderReason::kUnsupported);
  EXPECT_EQ(ToProviderReason(Status(Reason::kKeyHandleInvalid)), ProviderReason::kNoSuchKey);
  EXPECT_EQ(ToProviderReason(Status(Reason::kCorruptStore)), ProviderReason::kVaultUnavailable);
}

TEST(ProviderErrors, FallBackToCode) {
  EXPECT_EQ(ToProviderReason(NotFoundError("x")), ProviderReason::kNoSuchKey);
  EXPECT_EQ(ToProviderReason(PermissionDeniedError("x")), ProviderReason::kPermissionDenied);
  EXPECT_EQ(ToProviderReason(InvalidArgumentError("x")), ProviderReason::kBadArgument);
  EXPECT_EQ(ToProviderReason(UnavailableError("x")), ProviderReason::kVaultUnavailable);
  EXPECT_EQ(ToProviderReason(UnauthenticatedError("x")), ProviderReason::kPinRequired);
  EXPECT_EQ(ToProviderReason(Status(StatusCode::kUnknown, "x")), ProviderReason::kInternal);
}

TEST(ProviderErrors, EveryReasonHasOneString) {
  std::set<unsigned> ids;
  const OSSL_ITEM* item = ReasonStrings();
  for (; item->ptr != nullptr; ++item) {
    EXPECT_TRUE(ids.insert(item->id).second) << item->id;
    EXPECT_FALSE(std::string_view(static_cast<const char*>(item->ptr)).empty());
  }
  EXPECT_EQ(item->id, 0u);
  for (int r = 1; r <= static_cast<int>(ProviderReason::kNotVaultKey); ++r) EXPECT_EQ(ids.count(r), 1u) << r;
}

}  // namespace
}  // namespace certvault::provider
