// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Shamir k-of-n secret sharing over GF(2^8), from Debian's libgfshare (the
// scheme is never implemented here: docs/design/quorum.md). Each byte of the
// secret is the constant term of its own random polynomial of degree k-1;
// share x (1..n) holds the values at x. Any k shares give the secret; k-1
// give no information about it.
#ifndef CERTVAULT_QUORUM_SHAMIR_H_
#define CERTVAULT_QUORUM_SHAMIR_H_

#include <cstdint>
#include <vector>

#include "src/base/result.h"
#include "src/base/secret_bytes.h"

namespace certvault::quorum {

struct Share {
  uint8_t x = 0;  // 1..255, distinct per share
  SecretBytes y;  // as long as the secret
};

// SplitSecret: n shares (x = 1..n) of `secret`, any k of which recover it.
// kArgumentsBad unless 2 <= k <= n <= 255 and the secret is non-empty;
// kFunctionFailed if the private DRBG fails. Thread-safe.
Result<std::vector<Share>> SplitSecret(const SecretBytes& secret, uint8_t k, uint8_t n);

// CombineShares: the secret interpolated from `shares` (all of one length,
// distinct non-zero x). With fewer than k shares, or a foreign share, the
// result is a wrong value, not an error: callers check it (the quorum's
// verifier, the archive's AEAD tag). kArgumentsBad on malformed input.
Result<SecretBytes> CombineShares(const std::vector<Share>& shares);

}  // namespace certvault::quorum

#endif  // CERTVAULT_QUORUM_SHAMIR_H_
