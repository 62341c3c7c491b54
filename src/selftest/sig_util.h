// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Sign and verify helpers shared by the signature KATs and the pairwise-
// consistency test. All go through crypto::LibCtx().
#ifndef CERTVAULT_SELFTEST_SIG_UTIL_H_
#define CERTVAULT_SELFTEST_SIG_UTIL_H_

#include <openssl/evp.h>

#include <cstdint>
#include <span>
#include <vector>

#include "src/base/result.h"

namespace certvault::selftest::internal {

// SigOptions: `md` is the digest name (nullptr for EdDSA); `pss` selects
// RSA-PSS padding with a salt as long as the digest.
struct SigOptions {
  const char* md = nullptr;
  bool pss = false;
};

// SignMessage: one-shot EVP_DigestSign of `msg` with `key`. kDeviceError on
// any failure (the OpenSSL error queue is cleared).
Result<std::vector<uint8_t>> SignMessage(EVP_PKEY* key, const SigOptions& opt, std::span<const uint8_t> msg);

// VerifyMessage: true only if `sig` is a valid signature of `msg`.
bool VerifyMessage(EVP_PKEY* key, const SigOptions& opt, std::span<const uint8_t> msg,
                   std::span<const uint8_t> sig);

}  // namespace certvault::selftest::internal

#endif  // CERTVAULT_SELFTEST_SIG_UTIL_H_
