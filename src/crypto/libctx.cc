// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/crypto/libctx.h"

#include <atomic>

namespace certvault::crypto {
namespace {

// nullptr selects OpenSSL's default library context.
std::atomic<OSSL_LIB_CTX*> g_libctx{nullptr};

}  // namespace

OSSL_LIB_CTX* LibCtx() { return g_libctx.load(std::memory_order_acquire); }

void UseLibCtx(OSSL_LIB_CTX* ctx) { g_libctx.store(ctx, std::memory_order_release); }

}  // namespace certvault::crypto
