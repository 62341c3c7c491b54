// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Constant-time helpers. Every comparison of secrets or MACs goes through these.
#ifndef CERTVAULT_BASE_CT_H_
#define CERTVAULT_BASE_CT_H_

#include <openssl/crypto.h>

#include <cstdint>
#include <span>

namespace certvault {

// CtEqual: true iff a and b have the same length and contents. Time depends
// only on the lengths, never on the contents.
inline bool CtEqual(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Wipe: clears memory that held a secret (never memset, which may be elided).
inline void Wipe(void* p, size_t n) {
  if (p != nullptr && n != 0) OPENSSL_cleanse(p, n);
}

}  // namespace certvault

#endif  // CERTVAULT_BASE_CT_H_
