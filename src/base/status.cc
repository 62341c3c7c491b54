// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/base/status.h"

#include <string>

namespace certvault {

Status::Status(StatusCode code, std::string_view message) : Status(code, Reason::kNone, message) {}

Status::Status(StatusCode code, Reason reason, std::string_view message) {
  if (code == StatusCode::kOk) return;  // an OK status carries nothing
  rep_ = std::make_unique<Rep>(Rep{code, reason, std::string(message)});
}

Status::Status(Reason reason, std::string_view message)
    : Status(CanonicalCodeFor(reason), reason, message) {}

Status::Status(const Status& other)
    : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
  return *this;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(StatusCodeName(code()));
  if (!rep_->message.empty()) {
    out += ": ";
    out += rep_->message;
  }
  return out;
}

Status Status::Annotate(std::string_view context) const {
  if (ok()) return Status();
  std::string msg(context);
  if (!rep_->message.empty()) {
    msg += ": ";
    msg += rep_->message;
  }
  return Status(rep_->code, rep_->reason, msg);
}

StatusCode CanonicalCodeFor(Reason reason) {
  switch (reason) {
    case Reason::kNone:
      return StatusCode::kUnknown;
    case Reason::kBufferTooSmall:
    case Reason::kDataLenRange:
    case Reason::kEncryptedDataLenRange:
    case Reason::kSignatureLenRange:
    case Reason::kKeySizeRange:
    case Reason::kPinLenRange:
      return StatusCode::kOutOfRange;
    case Reason::kObjectHandleInvalid:
    case Reason::kSessionHandleInvalid:
    case Reason::kKeyHandleInvalid:
    case Reason::kWrappingKeyHandleInvalid:
    case Reason::kUnwrappingKeyHandleInvalid:
    case Reason::kSlotIdInvalid:
      return StatusCode::kNotFound;
    case Reason::kAttributeSensitive:
    case Reason::kAttributeReadOnly:
    case Reason::kKeyFunctionNotPermitted:
    case Reason::kKeyUnextractable:
    case Reason::kKeyNotWrappable:
    case Reason::kSessionReadOnly:
    case Reason::kTokenWriteProtected:
    case Reason::kInformationSensitive:
    case Reason::kActionProhibited:
    case Reason::kKeyIndigestible:
      return StatusCode::kPermissionDenied;
    case Reason::kPinIncorrect:
    case Reason::kUserNotLoggedIn:
      return StatusCode::kUnauthenticated;
    case Reason::kPinLocked:
    case Reason::kPinExpired:
    case Reason::kOperationActive:
    case Reason::kOperationNotInitialized:
    case Reason::kUserAlreadyLoggedIn:
    case Reason::kUserAnotherAlreadyLoggedIn:
    case Reason::kUserPinNotInitialized:
    case Reason::kSessionExists:
    case Reason::kSessionReadOnlyExists:
    case Reason::kSessionReadWriteSoExists:
    case Reason::kNotInitialized:
    case Reason::kAlreadyInitialized:
    case Reason::kTokenNotPresent:
    case Reason::kTokenNotRecognized:
    case Reason::kSessionClosed:
    case Reason::kStateUnsaveable:
      return StatusCode::kFailedPrecondition;
    case Reason::kSessionCount:
    case Reason::kCapacityExceeded:
    case Reason::kDeviceMemory:
    case Reason::kHostMemory:
      return StatusCode::kResourceExhausted;
    case Reason::kMechanismInvalid:
    case Reason::kFunctionNotSupported:
    case Reason::kRandomSeedNotSupported:
    case Reason::kCurveNotSupported:
    case Reason::kSessionParallelNotSupported:
      return StatusCode::kUnimplemented;
    case Reason::kDeviceRemoved:
    case Reason::kRandomNoRng:
      return StatusCode::kUnavailable;
    case Reason::kCorruptStore:
      return StatusCode::kDataLoss;
    case Reason::kDeviceError:
    case Reason::kFunctionFailed:
      return StatusCode::kInternal;
    case Reason::kFunctionCancelled:
      return StatusCode::kCancelled;
    default:
      return StatusCode::kInvalidArgument;
  }
}

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kCancelled: return "CANCELLED";
    case StatusCode::kUnknown: return "UNKNOWN";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kAlreadyExists: return "ALREADY_EXISTS";
    case StatusCode::kPermissionDenied: return "PERMISSION_DENIED";
    case StatusCode::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case StatusCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case StatusCode::kAborted: return "ABORTED";
    case StatusCode::kOutOfRange: return "OUT_OF_RANGE";
    case StatusCode::kUnimplemented: return "UNIMPLEMENTED";
    case StatusCode::kInternal: return "INTERNAL";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kDataLoss: return "DATA_LOSS";
    case StatusCode::kUnauthenticated: return "UNAUTHENTICATED";
    default: return "UNKNOWN_CODE";
  }
}

Status InvalidArgumentError(std::string_view m) { return Status(StatusCode::kInvalidArgument, m); }
Status NotFoundError(std::string_view m) { return Status(StatusCode::kNotFound, m); }
Status AlreadyExistsError(std::string_view m) { return Status(StatusCode::kAlreadyExists, m); }
Status PermissionDeniedError(std::string_view m) { return Status(StatusCode::kPermissionDenied, m); }
Status FailedPreconditionError(std::string_view m) { return Status(StatusCode::kFailedPrecondition, m); }
Status ResourceExhaustedError(std::string_view m) { return Status(StatusCode::kResourceExhausted, m); }
Status UnimplementedError(std::string_view m) { return Status(StatusCode::kUnimplemented, m); }
Status InternalError(std::string_view m) { return Status(StatusCode::kInternal, m); }
Status UnavailableError(std::string_view m) { return Status(StatusCode::kUnavailable, m); }
Status DataLossError(std::string_view m) { return Status(StatusCode::kDataLoss, m); }
Status UnauthenticatedError(std::string_view m) { return Status(StatusCode::kUnauthenticated, m); }
Status OutOfRangeError(std::string_view m) { return Status(StatusCode::kOutOfRange, m); }

}  // namespace certvault
