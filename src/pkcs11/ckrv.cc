// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/pkcs11/ckrv.h"

namespace certvault::pkcs11 {
namespace {

// CkRvForCode: the fallback for statuses that carry no Reason.
CK_RV CkRvForCode(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument: return CKR_ARGUMENTS_BAD;
    case StatusCode::kOutOfRange: return CKR_DATA_LEN_RANGE;
    case StatusCode::kNotFound: return CKR_OBJECT_HANDLE_INVALID;
    case StatusCode::kPermissionDenied: return CKR_ACTION_PROHIBITED;
    case StatusCode::kUnauthenticated: return CKR_USER_NOT_LOGGED_IN;
    case StatusCode::kResourceExhausted: return CKR_DEVICE_MEMORY;
    case StatusCode::kUnimplemented: return CKR_FUNCTION_NOT_SUPPORTED;
    case StatusCode::kUnavailable: return CKR_DEVICE_REMOVED;
    case StatusCode::kDataLoss: return CKR_DEVICE_ERROR;
    case StatusCode::kCancelled: return CKR_FUNCTION_CANCELED;
    case StatusCode::kUnknown: return CKR_GENERAL_ERROR;
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAlreadyExists:
    case StatusCode::kAborted:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kInternal:
      return CKR_FUNCTION_FAILED;
    default:
      return CKR_GENERAL_ERROR;
  }
}

// CkRvForReason: CKR_OK means "no specific mapping": use the code.
CK_RV CkRvForReason(Reason reason) {
  switch (reason) {
    case Reason::kArgumentsBad: return CKR_ARGUMENTS_BAD;
    case Reason::kBufferTooSmall: return CKR_BUFFER_TOO_SMALL;
    case Reason::kTemplateIncomplete: return CKR_TEMPLATE_INCOMPLETE;
    case Reason::kTemplateInconsistent: return CKR_TEMPLATE_INCONSISTENT;
    case Reason::kAttributeTypeInvalid: return CKR_ATTRIBUTE_TYPE_INVALID;
    case Reason::kAttributeValueInvalid: return CKR_ATTRIBUTE_VALUE_INVALID;
    case Reason::kAttributeReadOnly: return CKR_ATTRIBUTE_READ_ONLY;
    case Reason::kAttributeSensitive: return CKR_ATTRIBUTE_SENSITIVE;
    case Reason::kDataInvalid: return CKR_DATA_INVALID;
    case Reason::kDataLenRange: return CKR_DATA_LEN_RANGE;
    case Reason::kEncryptedDataInvalid: return CKR_ENCRYPTED_DATA_INVALID;
    case Reason::kEncryptedDataLenRange: return CKR_ENCRYPTED_DATA_LEN_RANGE;
    case Reason::kSignatureInvalid: return CKR_SIGNATURE_INVALID;
    case Reason::kSignatureLenRange: return CKR_SIGNATURE_LEN_RANGE;
    case Reason::kMechanismInvalid: return CKR_MECHANISM_INVALID;
    case Reason::kMechanismParamInvalid: return CKR_MECHANISM_PARAM_INVALID;
    case Reason::kKeyHandleInvalid: return CKR_KEY_HANDLE_INVALID;
    case Reason::kKeyTypeInconsistent: return CKR_KEY_TYPE_INCONSISTENT;
    case Reason::kKeyFunctionNotPermitted: return CKR_KEY_FUNCTION_NOT_PERMITTED;
    case Reason::kKeySizeRange: return CKR_KEY_SIZE_RANGE;
    case Reason::kKeyUnextractable: return CKR_KEY_UNEXTRACTABLE;
    case Reason::kKeyNotWrappable: return CKR_KEY_NOT_WRAPPABLE;
    case Reason::kWrappedKeyInvalid: return CKR_WRAPPED_KEY_INVALID;
    case Reason::kWrappingKeyHandleInvalid: return CKR_WRAPPING_KEY_HANDLE_INVALID;
    case Reason::kUnwrappingKeyHandleInvalid: return CKR_UNWRAPPING_KEY_HANDLE_INVALID;
    case Reason::kCurveNotSupported: return CKR_CURVE_NOT_SUPPORTED;
    case Reason::kDomainParamsInvalid: return CKR_DOMAIN_PARAMS_INVALID;
    case Reason::kObjectHandleInvalid: return CKR_OBJECT_HANDLE_INVALID;
    case Reason::kSessionHandleInvalid: return CKR_SESSION_HANDLE_INVALID;
    case Reason::kSessionClosed: return CKR_SESSION_CLOSED;
    case Reason::kSessionCount: return CKR_SESSION_COUNT;
    case Reason::kSessionReadOnly: return CKR_SESSION_READ_ONLY;
    case Reason::kSessionExists: return CKR_SESSION_EXISTS;
    case Reason::kSessionParallelNotSupported: return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
    case Reason::kSessionReadOnlyExists: return CKR_SESSION_READ_ONLY_EXISTS;
    case Reason::kSessionReadWriteSoExists: return CKR_SESSION_READ_WRITE_SO_EXISTS;
    case Reason::kOperationActive: return CKR_OPERATION_ACTIVE;
    case Reason::kOperationNotInitialized: return CKR_OPERATION_NOT_INITIALIZED;
    case Reason::kSlotIdInvalid: return CKR_SLOT_ID_INVALID;
    case Reason::kTokenNotPresent: return CKR_TOKEN_NOT_PRESENT;
    case Reason::kTokenNotRecognized: return CKR_TOKEN_NOT_RECOGNIZED;
    case Reason::kTokenWriteProtected: return CKR_TOKEN_WRITE_PROTECTED;
    case Reason::kDeviceRemoved: return CKR_DEVICE_REMOVED;
    case Reason::kDeviceMemory: return CKR_DEVICE_MEMORY;
    case Reason::kDeviceError: return CKR_DEVICE_ERROR;
    case Reason::kCapacityExceeded: return CKR_TOKEN_RESOURCE_EXCEEDED;
    case Reason::kPinIncorrect: return CKR_PIN_INCORRECT;
    case Reason::kPinLocked: return CKR_PIN_LOCKED;
    case Reason::kPinExpired: return CKR_PIN_EXPIRED;
    case Reason::kPinInvalid: return CKR_PIN_INVALID;
    case Reason::kPinLenRange: return CKR_PIN_LEN_RANGE;
    case Reason::kUserNotLoggedIn: return CKR_USER_NOT_LOGGED_IN;
    case Reason::kUserAlreadyLoggedIn: return CKR_USER_ALREADY_LOGGED_IN;
    case Reason::kUserAnotherAlreadyLoggedIn: return CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
    case Reason::kUserPinNotInitialized: return CKR_USER_PIN_NOT_INITIALIZED;
    case Reason::kUserTypeInvalid: return CKR_USER_TYPE_INVALID;
    case Reason::kUserTooManyTypes: return CKR_USER_TOO_MANY_TYPES;
    case Reason::kNotInitialized: return CKR_CRYPTOKI_NOT_INITIALIZED;
    case Reason::kAlreadyInitialized: return CKR_CRYPTOKI_ALREADY_INITIALIZED;
    case Reason::kFunctionNotSupported: return CKR_FUNCTION_NOT_SUPPORTED;
    case Reason::kFunctionFailed: return CKR_FUNCTION_FAILED;
    case Reason::kRandomNoRng: return CKR_RANDOM_NO_RNG;
    case Reason::kHostMemory: return CKR_HOST_MEMORY;
    case Reason::kCorruptStore: return CKR_DEVICE_ERROR;
    case Reason::kFunctionCancelled: return CKR_FUNCTION_CANCELED;
    case Reason::kInformationSensitive: return CKR_INFORMATION_SENSITIVE;
    case Reason::kStateUnsaveable: return CKR_STATE_UNSAVEABLE;
    case Reason::kActionProhibited: return CKR_ACTION_PROHIBITED;
    case Reason::kRandomSeedNotSupported: return CKR_RANDOM_SEED_NOT_SUPPORTED;
    case Reason::kKeyIndigestible: return CKR_KEY_INDIGESTIBLE;
    case Reason::kNone:
    default:
      return CKR_OK;
  }
}

}  // namespace

CK_RV ToCkRv(const Status& status) {
  if (status.ok()) return CKR_OK;
  CK_RV rv = CkRvForReason(status.reason());
  return rv != CKR_OK ? rv : CkRvForCode(status.code());
}

}  // namespace certvault::pkcs11
