// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Random bytes from OpenSSL's DRBGs. Two entry points because OpenSSL keeps a
// separate "private" DRBG for secret values (keys, nonces of secrets), so that
// public randomness (IVs, salts, serials) never shares state with key material.
#ifndef CERTVAULT_CRYPTO_RANDOM_H_
#define CERTVAULT_CRYPTO_RANDOM_H_

#include <cstdint>
#include <span>

#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/base/status.h"

namespace certvault::crypto {

// RandomBytes: fills `out` from the public DRBG (RAND_bytes_ex). For IVs,
// salts, nonces and identifiers. kRandomNoRng-like kFunctionFailed on DRBG failure.
Status RandomBytes(std::span<uint8_t> out);

// RandomSecretBytes: fills `out` from the private DRBG (RAND_priv_bytes_ex).
// For key material.
Status RandomSecretBytes(std::span<uint8_t> out);

// NewRandomSecret: a SecretBytes of `size` bytes from the private DRBG.
Result<SecretBytes> NewRandomSecret(size_t size);

}  // namespace certvault::crypto

#endif  // CERTVAULT_CRYPTO_RANDOM_H_
