// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// ToCkRv: the one table from certvault's Status to a PKCS#11 return value.
#ifndef CERTVAULT_PKCS11_CKRV_H_
#define CERTVAULT_PKCS11_CKRV_H_

#include "src/base/status.h"
#include "src/pkcs11/pkcs11_v3.h"

namespace certvault::pkcs11 {

// ToCkRv maps `status` to a CK_RV: OK -> CKR_OK; otherwise its Reason decides
// (kPinLocked -> CKR_PIN_LOCKED, ...); a status without a Reason falls back on
// its StatusCode (kInvalidArgument -> CKR_ARGUMENTS_BAD, kInternal ->
// CKR_FUNCTION_FAILED, ...). Never returns CKR_OK for a non-OK status.
CK_RV ToCkRv(const Status& status);

}  // namespace certvault::pkcs11

#endif  // CERTVAULT_PKCS11_CKRV_H_
