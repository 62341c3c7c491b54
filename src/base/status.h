// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Status: the one error type of certvault. A Status is a canonical code (the
// Abseil set) plus a domain Reason that lets each boundary (PKCS#11, provider,
// IPC, CLI) map the error precisely, plus a human message. The OK status does
// not allocate (LevelDB's representation: a null pointer).
//
// Messages never contain key bytes, PINs or plaintext.
#ifndef CERTVAULT_BASE_STATUS_H_
#define CERTVAULT_BASE_STATUS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace certvault {

// StatusCode: the canonical codes, numbered as absl::StatusCode.
enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// Reason: a precise domain reason. Each boundary has one table that maps a
// Reason (falling back to the StatusCode) to its own error vocabulary, e.g.
// src/pkcs11/ckrv.cc. Append only: values travel over IPC.
enum class Reason : uint16_t {
  kNone = 0,
  // Arguments and templates.
  kArgumentsBad = 1,
  kBufferTooSmall = 2,
  kTemplateIncomplete = 3,
  kTemplateInconsistent = 4,
  kAttributeTypeInvalid = 5,
  kAttributeValueInvalid = 6,
  kAttributeReadOnly = 7,
  kAttributeSensitive = 8,
  kDataInvalid = 9,
  kDataLenRange = 10,
  kEncryptedDataInvalid = 11,
  kEncryptedDataLenRange = 12,
  kSignatureInvalid = 13,
  kSignatureLenRange = 14,
  // Mechanisms and keys.
  kMechanismInvalid = 20,
  kMechanismParamInvalid = 21,
  kKeyHandleInvalid = 22,
  kKeyTypeInconsistent = 23,
  kKeyFunctionNotPermitted = 24,
  kKeySizeRange = 25,
  kKeyUnextractable = 26,
  kKeyNotWrappable = 27,
  kWrappedKeyInvalid = 28,
  kWrappingKeyHandleInvalid = 29,
  kUnwrappingKeyHandleInvalid = 30,
  kCurveNotSupported = 31,
  kDomainParamsInvalid = 32,
  kKeyUsageNotPermitted = kKeyFunctionNotPermitted,
  // Objects, sessions, tokens, slots.
  kObjectHandleInvalid = 40,
  kSessionHandleInvalid = 41,
  kSessionClosed = 42,
  kSessionCount = 43,
  kSessionReadOnly = 44,
  kSessionExists = 45,
  kSessionParallelNotSupported = 46,
  kSessionReadOnlyExists = 47,
  kSessionReadWriteSoExists = 48,
  kOperationActive = 49,
  kOperationNotInitialized = 50,
  kSlotIdInvalid = 51,
  kTokenNotPresent = 52,
  kTokenNotRecognized = 53,
  kTokenWriteProtected = 54,
  kDeviceRemoved = 55,
  kDeviceMemory = 56,
  kDeviceError = 57,
  kCapacityExceeded = 58,
  // Authentication.
  kPinIncorrect = 60,
  kPinLocked = 61,
  kPinExpired = 62,
  kPinInvalid = 63,
  kPinLenRange = 64,
  kUserNotLoggedIn = 65,
  kUserAlreadyLoggedIn = 66,
  kUserAnotherAlreadyLoggedIn = 67,
  kUserPinNotInitialized = 68,
  kUserTypeInvalid = 69,
  kUserTooManyTypes = 70,
  // Library state.
  kNotInitialized = 80,
  kAlreadyInitialized = 81,
  kFunctionNotSupported = 82,
  kFunctionFailed = 83,
  kRandomNoRng = 84,
  kHostMemory = 85,
  kCorruptStore = 86,
  kFunctionCancelled = 87,
  kInformationSensitive = 88,
  kStateUnsaveable = 89,
  kActionProhibited = 90,
  kRandomSeedNotSupported = 91,
  kKeyIndigestible = 92,
};

// Status: code + reason + message. Cheap to move; the OK path is a null pointer.
class [[nodiscard]] Status {
 public:
  Status() noexcept = default;  // OK
  Status(StatusCode code, std::string_view message);
  Status(StatusCode code, Reason reason, std::string_view message);
  // Status(Reason): the code is the canonical one for `reason` (see status.cc).
  explicit Status(Reason reason, std::string_view message = {});

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  Reason reason() const { return rep_ ? rep_->reason : Reason::kNone; }
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : std::string_view(); }
  // ToString: "INVALID_ARGUMENT: message" (or "OK").
  std::string ToString() const;

  // Annotate: returns a copy whose message is prefixed with `context: `.
  Status Annotate(std::string_view context) const;

 private:
  struct Rep {
    StatusCode code;
    Reason reason;
    std::string message;
  };
  std::unique_ptr<Rep> rep_;
};

inline Status OkStatus() { return Status(); }

// Canonical code that a reason implies (used by Status(Reason)).
StatusCode CanonicalCodeFor(Reason reason);
std::string_view StatusCodeName(StatusCode code);

Status InvalidArgumentError(std::string_view message);
Status NotFoundError(std::string_view message);
Status AlreadyExistsError(std::string_view message);
Status PermissionDeniedError(std::string_view message);
Status FailedPreconditionError(std::string_view message);
Status ResourceExhaustedError(std::string_view message);
Status UnimplementedError(std::string_view message);
Status InternalError(std::string_view message);
Status UnavailableError(std::string_view message);
Status DataLossError(std::string_view message);
Status UnauthenticatedError(std::string_view message);
Status OutOfRangeError(std::string_view message);

}  // namespace certvault

#endif  // CERTVAULT_BASE_STATUS_H_
