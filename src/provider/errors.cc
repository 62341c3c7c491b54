// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/provider/errors.h"

namespace certvault::provider {
namespace {

ProviderReason ByCode(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return ProviderReason::kBadArgument;
    case StatusCode::kNotFound:
      return ProviderReason::kNoSuchKey;
    case StatusCode::kPermissionDenied:
      return ProviderReason::kPermissionDenied;
    case StatusCode::kUnauthenticated:
      return ProviderReason::kPinRequired;
    case StatusCode::kUnimplemented:
      return ProviderReason::kUnsupported;
    case StatusCode::kUnavailable:
    case StatusCode::kDataLoss:
      return ProviderReason::kVaultUnavailable;
    case StatusCode::kFailedPrecondition:
    case StatusCode::kResourceExhausted:
    case StatusCode::kOutOfRange:
    case StatusCode::kAborted:
      return ProviderReason::kOperationFailed;
    default:
      return ProviderReason::kInternal;
  }
}

}  // namespace

ProviderReason ToProviderReason(const Status& status) {
  switch (status.reason()) {
    case Reason::kPinIncorrect:
    case Reason::kPinInvalid:
    case Reason::kPinLenRange:
      return ProviderReason::kPinIncorrect;
    case Reason::kPinLocked:
      return ProviderReason::kPinLocked;
    case Reason::kPinExpired:
    case Reason::kUserNotLoggedIn:
    case Reason::kUserPinNotInitialized:
      return ProviderReason::kPinRequired;
    case Reason::kKeyFunctionNotPermitted:
    case Reason::kActionProhibited:
      return ProviderReason::kNotPermitted;
    case Reason::kMechanismInvalid:
    case Reason::kMechanismParamInvalid:
    case Reason::kCurveNotSupported:
    case Reason::kFunctionNotSupported:
      return ProviderReason::kUnsupported;
    case Reason::kKeyHandleInvalid:
    case Reason::kObjectHandleInvalid:
      return ProviderReason::kNoSuchKey;
    case Reason::kBufferTooSmall:
      return ProviderReason::kBufferTooSmall;
    case Reason::kCorruptStore:
    case Reason::kTokenNotPresent:
    case Reason::kDeviceError:
      return ProviderReason::kVaultUnavailable;
    case Reason::kDataInvalid:
    case Reason::kDataLenRange:
    case Reason::kEncryptedDataInvalid:
    case Reason::kEncryptedDataLenRange:
    case Reason::kKeyTypeInconsistent:
      return ProviderReason::kOperationFailed;
    case Reason::kHostMemory:
      return ProviderReason::kInternal;
    default:
      return ByCode(status.code());
  }
}

const OSSL_ITEM* ReasonStrings() {
  static const OSSL_ITEM kStrings[] = {
      {static_cast<unsigned>(ProviderReason::kBadUri), const_cast<char*>("malformed certvault key URI")},
      {static_cast<unsigned>(ProviderReason::kNoSuchKey), const_cast<char*>("no such key in the vault")},
      {static_cast<unsigned>(ProviderReason::kPinRequired), const_cast<char*>("a PIN is required")},
      {static_cast<unsigned>(ProviderReason::kPinIncorrect), const_cast<char*>("incorrect PIN")},
      {static_cast<unsigned>(ProviderReason::kPinLocked), const_cast<char*>("PIN locked")},
      {static_cast<unsigned>(ProviderReason::kVaultUnavailable), const_cast<char*>("vault unavailable")},
      {static_cast<unsigned>(ProviderReason::kPermissionDenied), const_cast<char*>("permission denied on the vault")},
      {static_cast<unsigned>(ProviderReason::kNotPermitted), const_cast<char*>("operation not permitted for this key")},
      {static_cast<unsigned>(ProviderReason::kUnsupported), const_cast<char*>("not supported")},
      {static_cast<unsigned>(ProviderReason::kBadKeyRef), const_cast<char*>("corrupt certvault key-reference file")},
      {static_cast<unsigned>(ProviderReason::kBadArgument), const_cast<char*>("invalid argument")},
      {static_cast<unsigned>(ProviderReason::kBufferTooSmall), const_cast<char*>("output buffer too small")},
      {static_cast<unsigned>(ProviderReason::kOperationFailed), const_cast<char*>("vault operation failed")},
      {static_cast<unsigned>(ProviderReason::kInternal), const_cast<char*>("internal error")},
      {static_cast<unsigned>(ProviderReason::kNotVaultKey), const_cast<char*>("not a vault private key")},
      {0, nullptr},
  };
  return kStrings;
}

}  // namespace certvault::provider
