// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// OpenSslError: turns a failed OpenSSL call into a Status, draining the
// thread's ERR queue into the message (Tink's GetSslErrors). Call it right
// where the call failed so the queue holds only that call's errors.
#ifndef CERTVAULT_CRYPTO_OSSL_ERROR_H_
#define CERTVAULT_CRYPTO_OSSL_ERROR_H_

#include <string_view>

#include "src/base/status.h"

namespace certvault::ossl {

// OpenSslError("EVP_PKEY_sign"): kInternal/kFunctionFailed unless `reason` is given.
Status OpenSslError(std::string_view call, Reason reason = Reason::kFunctionFailed);
// ClearErrors: drops queued errors (after an expected failure).
void ClearErrors();

}  // namespace certvault::ossl

#endif  // CERTVAULT_CRYPTO_OSSL_ERROR_H_
