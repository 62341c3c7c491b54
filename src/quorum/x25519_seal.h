// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Encryption to an X25519 public key (docs/design/quorum.md, "Sealing to a
// key"): an ephemeral X25519 key agreement (RFC 7748 §6.1), HKDF-SHA-256
// (RFC 5869) of the shared secret with `label | eph_pub | recipient_pub` as
// info, and AES-256-GCM under that key with the caller's AAD:
//   sealed = eph_pub[32] | nonce[12] | ciphertext | tag[16]
// Used for quorum shares given to a pending operation and for the backup
// key's shares in an archive.
#ifndef CERTVAULT_QUORUM_X25519_SEAL_H_
#define CERTVAULT_QUORUM_X25519_SEAL_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"

namespace certvault::quorum {

inline constexpr size_t kX25519Size = 32;

struct X25519KeyPair {
  Bytes public_key;        // 32 bytes
  SecretBytes private_key;  // 32 bytes
};

// NewX25519KeyPair: a fresh key pair. kFunctionFailed if OpenSSL fails.
Result<X25519KeyPair> NewX25519KeyPair();

// SealToKey: `plaintext` for the holder of the private half of `recipient`
// (32 bytes; kArgumentsBad otherwise).
Result<Bytes> SealToKey(std::span<const uint8_t> recipient, std::string_view label, std::span<const uint8_t> aad,
                        std::span<const uint8_t> plaintext);

// OpenWithKey: the inverse; kEncryptedDataInvalid for a wrong key, label,
// AAD, or a modified or truncated input.
Result<SecretBytes> OpenWithKey(const SecretBytes& private_key, std::string_view label, std::span<const uint8_t> aad,
                                std::span<const uint8_t> sealed);

}  // namespace certvault::quorum

#endif  // CERTVAULT_QUORUM_X25519_SEAL_H_
