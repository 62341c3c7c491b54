// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/crypto/libctx.h"

namespace certvault::crypto {

// nullptr selects OpenSSL's default library context.
OSSL_LIB_CTX* LibCtx() { return nullptr; }

}  // namespace certvault::crypto
