// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Provider errors: the one mapping table from certvault::Status to the
// provider's reason codes, and the reason-string table OpenSSL prints
// (OSSL_FUNC_PROVIDER_GET_REASON_STRINGS). Errors reach the application only
// through the core's upcalls (core_new_error, core_set_error_debug,
// core_vset_error); the provider never prints anything.
#ifndef CERTVAULT_PROVIDER_ERRORS_H_
#define CERTVAULT_PROVIDER_ERRORS_H_

#include <openssl/core.h>

#include "src/base/status.h"

namespace certvault::provider {

// ProviderReason: the reason codes of the provider's error library. Append only.
enum class ProviderReason : int {
  kDoNotUse = 0,
  kBadUri = 1,       // a malformed certvault:/pkcs11: URI
  kNoSuchKey = 2,    // nothing in the vault matches
  kPinRequired = 3,  // no PIN source gave a PIN
  kPinIncorrect = 4,
  kPinLocked = 5,
  kVaultUnavailable = 6,  // the vault cannot be opened or read
  kPermissionDenied = 7,  // file permissions on the vault
  kNotPermitted = 8,      // key usage / policy refused the operation
  kUnsupported = 9,       // algorithm, parameter or operation not offered
  kBadKeyRef = 10,        // a corrupt key-reference file
  kBadArgument = 11,
  kBufferTooSmall = 12,
  kOperationFailed = 13,  // the vault refused or failed the operation
  kInternal = 14,
  kNotVaultKey = 15,  // a private operation on a key that is not in the vault
};

// ToProviderReason: the table. Precise Reasons first, else by StatusCode.
ProviderReason ToProviderReason(const Status& status);

// ReasonStrings: the OSSL_ITEM table for get_reason_strings, {0, NULL} ended.
const OSSL_ITEM* ReasonStrings();

}  // namespace certvault::provider

#endif  // CERTVAULT_PROVIDER_ERRORS_H_
