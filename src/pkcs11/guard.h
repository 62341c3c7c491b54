// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// GuardedCall: the wrapper of every C_* entry point. Nothing escapes into the
// C caller: std::bad_alloc becomes CKR_HOST_MEMORY and any other exception
// CKR_GENERAL_ERROR; the module never exits, aborts or prints.
#ifndef CERTVAULT_PKCS11_GUARD_H_
#define CERTVAULT_PKCS11_GUARD_H_

#include <new>

#include "src/base/status.h"
#include "src/base/status_macros.h"
#include "src/core/backend.h"
#include "src/pkcs11/ckrv.h"
#include "src/pkcs11/module.h"
#include "src/pkcs11/pkcs11_v3.h"
#include "src/selftest/selftest.h"

namespace certvault::pkcs11 {

// ToCkRvAny: a Status through ToCkRv; a CK_RV as it is.
inline CK_RV ToCkRvAny(CK_RV rv) { return rv; }
inline CK_RV ToCkRvAny(const Status& status) { return ToCkRv(status); }

// GuardedCall runs `fn` (returning Status or CK_RV) and maps its result.
template <typename Fn>
CK_RV GuardedCall(Fn&& fn) noexcept {
  try {
    return ToCkRvAny(fn());
  } catch (const std::bad_alloc&) {
    return CKR_HOST_MEMORY;
  } catch (...) {
    return CKR_GENERAL_ERROR;
  }
}

// WithBackendInfo: GuardedCall that first takes the current backend
// (CKR_CRYPTOKI_NOT_INITIALIZED if none) and passes it to `fn(Backend&)`.
// Only for the functions that still answer in the self-test error state:
// general, slot, token, mechanism and session information, closing sessions
// and logging out (docs/design/selftest.md).
template <typename Fn>
CK_RV WithBackendInfo(Fn&& fn) noexcept {
  return GuardedCall([&]() -> CK_RV {
    Result<Backend*> backend = CurrentBackend();
    if (!backend.ok()) return ToCkRv(backend.status());
    return ToCkRvAny(fn(**backend));
  });
}

// WithBackend: WithBackendInfo for every other function: in the self-test
// error state it returns CKR_DEVICE_ERROR without calling `fn`.
template <typename Fn>
CK_RV WithBackend(Fn&& fn) noexcept {
  return WithBackendInfo([&](Backend& backend) -> CK_RV {
    if (selftest::InErrorState()) return ToCkRv(selftest::ErrorStateStatus());
    return ToCkRvAny(fn(backend));
  });
}

// NotSupported: for functions certvault does not implement; still reports
// CKR_CRYPTOKI_NOT_INITIALIZED first, as §5.1.1 ranks it.
inline CK_RV NotSupported(CK_RV rv = CKR_FUNCTION_NOT_SUPPORTED) noexcept {
  return GuardedCall([&]() -> CK_RV { return IsInitialized() ? rv : CKR_CRYPTOKI_NOT_INITIALIZED; });
}

}  // namespace certvault::pkcs11

#endif  // CERTVAULT_PKCS11_GUARD_H_
