// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Operations not offered yet: OpenSSL uses other providers for them.
#include "src/provider/algorithms.h"

namespace certvault::provider {

const OSSL_ALGORITHM* AsymCipherAlgorithms() { return nullptr; }
const OSSL_ALGORITHM* KeyexchAlgorithms() { return nullptr; }

}  // namespace certvault::provider
