// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Guarded: every function OpenSSL calls runs inside one, so that nothing
// escapes into C: an exception becomes a raised error and the failure value.
// errno is restored on the way out: the vault's file probes must not make a
// caller that reports errno (python's ssl) see an unrelated ENOENT.
#ifndef CERTVAULT_PROVIDER_GUARD_H_
#define CERTVAULT_PROVIDER_GUARD_H_

#include <cerrno>
#include <new>

#include "src/provider/provctx.h"

namespace certvault::provider {

template <typename R, typename Fn>
R Guarded(const ProviderContext* ctx, const char* func, R on_error, Fn&& fn) noexcept {
  struct ErrnoKeeper {
    int saved = errno;
    ~ErrnoKeeper() { errno = saved; }
  } keeper;
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    if (ctx != nullptr) ctx->RaiseText(ProviderReason::kInternal, func, "out of memory");
  } catch (...) {
    if (ctx != nullptr) ctx->RaiseText(ProviderReason::kInternal, func, "unexpected exception");
  }
  return on_error;
}

// Ok: 1 on success, else raises `status` and returns 0 (the provider API's convention).
inline int Ok(const ProviderContext* ctx, const Status& status, const char* func) {
  if (status.ok()) return 1;
  ctx->Raise(status, func);
  return 0;
}

}  // namespace certvault::provider

#endif  // CERTVAULT_PROVIDER_GUARD_H_
