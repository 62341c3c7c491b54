// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Keyed integrity primitives for data at rest: HMAC-SHA-256 (RFC 2104) and
// HKDF-SHA-256 (RFC 5869). The core derives a MAC key from the token key with
// HKDF and authenticates stored object records and token state with HMAC
// (docs/formats/integrity.md).
#ifndef CERTVAULT_CRYPTO_MAC_H_
#define CERTVAULT_CRYPTO_MAC_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::crypto {

inline constexpr size_t kMacSize = 32;
using MacTag = std::array<uint8_t, kMacSize>;

// HmacSha256: HMAC-SHA-256 of the concatenation of `parts` under `key` (any
// non-empty length). kArgumentsBad for an empty key; kFunctionFailed if
// OpenSSL fails. Thread-safe.
Result<MacTag> HmacSha256(const SecretBytes& key, std::initializer_list<std::span<const uint8_t>> parts);

// HmacKey: HMAC-SHA-256 under one key, set up once (digest fetch and key
// schedule), so that each message costs only its own hashing: for many MACs
// under the same key (the login-time object-set check). Compute is const but
// not thread-safe: one instance per thread.
class HmacKey {
 public:
  // Create: kArgumentsBad for an empty key; kFunctionFailed if OpenSSL fails.
  static Result<HmacKey> Create(const SecretBytes& key);
  // Compute: the MAC of the concatenation of `parts`.
  Result<MacTag> Compute(std::initializer_list<std::span<const uint8_t>> parts) const;

 private:
  explicit HmacKey(ossl::UniquePtr<EVP_MAC_CTX> keyed) : keyed_(std::move(keyed)) {}
  ossl::UniquePtr<EVP_MAC_CTX> keyed_;  // initialized with the key, never updated
};

// HkdfSha256: `out_len` (1..255*32) bytes = HKDF-SHA-256(salt = none, ikm =
// `ikm`, info = `info`) (RFC 5869 §2). kArgumentsBad for an empty ikm or a
// bad length. Thread-safe.
Result<SecretBytes> HkdfSha256(const SecretBytes& ikm, std::string_view info, size_t out_len);

// MacEqual: constant-time comparison of two tags.
bool MacEqual(std::span<const uint8_t> a, std::span<const uint8_t> b);

}  // namespace certvault::crypto

#endif  // CERTVAULT_CRYPTO_MAC_H_
