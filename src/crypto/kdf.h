// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Password-based key derivation: Argon2id (RFC 9106) through libargon2. The
// core derives the KEK that wraps a token key from the user's or SO's PIN.
#ifndef CERTVAULT_CRYPTO_KDF_H_
#define CERTVAULT_CRYPTO_KDF_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/base/status.h"

namespace certvault::crypto {

// Argon2Params: cost parameters, stored beside each wrapped key so they can be
// raised later. The defaults are the OWASP minimum for Argon2id
// (m = 19 MiB, t = 2, p = 1).
struct Argon2Params {
  uint32_t t_cost = 2;            // passes, 1..64
  uint32_t m_cost_kib = 19456;    // memory in KiB, 8*p .. 4 GiB
  uint32_t parallelism = 1;       // lanes, 1..16
};

// ValidateArgon2Params: kArgumentsBad for values outside the bounds above
// (too weak to be meaningful, or absurd enough to be a denial of service
// when read from a tampered store).
Status ValidateArgon2Params(const Argon2Params& params);

inline constexpr size_t kArgon2MinSaltSize = 8;
inline constexpr size_t kArgon2MaxOutputSize = 1024;

// DeriveArgon2id: `out_len` (4..1024) bytes from `pin` and `salt` (>= 8 bytes,
// 16 recommended). kArgumentsBad on bad parameters; kHostMemory if the memory
// cost cannot be allocated; kFunctionFailed on other libargon2 errors.
// Thread-safe; the run time is dominated by `params`.
Result<SecretBytes> DeriveArgon2id(const SecretBytes& pin, std::span<const uint8_t> salt,
                                   const Argon2Params& params, size_t out_len);

}  // namespace certvault::crypto

#endif  // CERTVAULT_CRYPTO_KDF_H_
