// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// ECDSA signature formats. PKCS#11 v3.0 §2.3.1: an ECDSA signature is "the
// concatenation of r and s, each represented as an octet string of length
// nLen" (the order's byte length); OpenSSL speaks DER (X9.62 Ecdsa-Sig-Value).
#ifndef CERTVAULT_ENGINE_ECDSA_SIG_H_
#define CERTVAULT_ENGINE_ECDSA_SIG_H_

#include <span>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/secure_allocator.h"

namespace certvault::engine {

// Large enough for a DER P-521 signature (2 * (3 + 66) + 3 bytes).
inline constexpr size_t kMaxEcdsaDerSize = 160;

// EcdsaDerToRaw: DER -> r||s, each left-padded to `n_len` bytes, into `out`.
Status EcdsaDerToRaw(std::span<const uint8_t> der, size_t n_len, SecureVector* out);
// EcdsaRawToDer: r||s (even length) -> DER. kSignatureLenRange on odd/empty input.
Result<Bytes> EcdsaRawToDer(std::span<const uint8_t> raw);

}  // namespace certvault::engine

#endif  // CERTVAULT_ENGINE_ECDSA_SIG_H_
