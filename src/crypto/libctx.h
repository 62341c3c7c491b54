// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// LibCtx: the one OSSL_LIB_CTX every certvault crypto call uses. Today it is
// OpenSSL's default context (nullptr); keeping it in one place lets the daemon
// or a FIPS build swap in its own context without touching callers.
#ifndef CERTVAULT_CRYPTO_LIBCTX_H_
#define CERTVAULT_CRYPTO_LIBCTX_H_

#include <openssl/types.h>

namespace certvault::crypto {

// LibCtx: the library context for fetches and key construction. Never freed
// by callers. Thread-safe.
OSSL_LIB_CTX* LibCtx();

// UseLibCtx: makes `ctx` the context of every later LibCtx() call. The OpenSSL
// provider calls it once, before anything else of certvault runs in its copy of
// the core: the core's own crypto must not go through the application's default
// context, where the provider itself is loaded (docs/design/provider.md).
// `ctx` must outlive every use; nullptr restores the default context.
void UseLibCtx(OSSL_LIB_CTX* ctx);

}  // namespace certvault::crypto

#endif  // CERTVAULT_CRYPTO_LIBCTX_H_
