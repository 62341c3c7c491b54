// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// AEAD for data at rest: AES-256-GCM with a random 96-bit nonce and a 128-bit
// tag. The sealed format is
//     nonce (12) | ciphertext (= plaintext length) | tag (16)
// Used by the core to encrypt secret attributes (AAD binds object id and
// attribute type) and to wrap the token key under the PIN-derived KEK.
// Random nonces are safe up to ~2^32 messages per key (NIST SP 800-38D §8.3).
#ifndef CERTVAULT_CRYPTO_AEAD_H_
#define CERTVAULT_CRYPTO_AEAD_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "src/base/result.h"
#include "src/base/secret_bytes.h"

namespace certvault::crypto {

inline constexpr size_t kAeadKeySize = 32;
inline constexpr size_t kAeadNonceSize = 12;
inline constexpr size_t kAeadTagSize = 16;
inline constexpr size_t kAeadOverhead = kAeadNonceSize + kAeadTagSize;

// AeadSeal: encrypts `plaintext` under the 32-byte `key`, authenticating `aad`.
// Returns nonce | ciphertext | tag. kInvalidArgument (kArgumentsBad) if the key
// is not 32 bytes; kFunctionFailed if OpenSSL fails. Thread-safe.
Result<SecureVector> AeadSeal(const SecretBytes& key, std::span<const uint8_t> aad,
                              std::span<const uint8_t> plaintext);

// AeadOpen: the inverse of AeadSeal. Any length or tag failure (wrong key,
// wrong AAD, modified or truncated input) returns Reason::kEncryptedDataInvalid
// and releases no plaintext; callers re-map the reason for their context
// (e.g. kCorruptStore, kPinIncorrect). kArgumentsBad if the key is not 32 bytes.
Result<SecureVector> AeadOpen(const SecretBytes& key, std::span<const uint8_t> aad,
                              std::span<const uint8_t> sealed);

}  // namespace certvault::crypto

#endif  // CERTVAULT_CRYPTO_AEAD_H_
