// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// PIN-based protection of a token's key (docs/formats/token-key.md).
//
// Each token has one random 256-bit token key that seals every secret
// attribute of its objects. Each role (SO, user) holds a copy of it sealed
// (AES-256-GCM) under a key-encryption key derived from that role's PIN with
// Argon2id; the KDF parameters and salt are stored per role, so they can be
// raised later without re-encrypting objects. Knowing either PIN yields the
// token key; neither PIN is stored.
//
//   kdf record  = "A2ID" | version u8 (1 or 2) | t u32 | m_kib u32 | p u32 | salt_len u8 | salt
//   wrapped key = nonce[12] | ciphertext[32] | tag[16]
//   AAD         = "certvault token key v<version>" | token_id u64 | role u8
// Version 2 rows carry a tamper-evident retry counter (pin_counter.h); the
// version is bound into the AAD, so it cannot be turned back to 1 without
// making the correct PIN fail too. Version 1 rows are re-sealed as version 2
// at their next correct PIN.
#ifndef CERTVAULT_CORE_AUTH_H_
#define CERTVAULT_CORE_AUTH_H_

#include <cstdint>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/core/config.h"
#include "src/crypto/kdf.h"
#include "src/storage/store.h"

namespace certvault::core {

inline constexpr size_t kTokenKeySize = 32;
// Token flags (storage::TokenRow::flags).
inline constexpr uint64_t kTokenFlagUserPinMustChange = 1;  // policy: new user PINs must be changed at first login
// The token was made with the event log, so it must have an audit key
// (docs/formats/event-log.md); covered by the token state MAC.
inline constexpr uint64_t kTokenFlagEventLog = 2;
// The token has a quorum (issue 16, quorum_flag.h); covered by the token
// state MAC, so deleting the quorum record from vault.db is detected.
inline constexpr uint64_t kTokenFlagQuorum = 4;
// Auth flags (storage::AuthRow::flags).
inline constexpr uint32_t kAuthFlagMustChange = 1;  // this PIN must be changed (C_Login -> CKR_PIN_EXPIRED)
inline constexpr size_t kPinSaltSize = 16;

inline constexpr uint8_t kKdfVersionLegacy = 1;   // counter not tamper-evident
inline constexpr uint8_t kKdfVersionCounted = 2;  // with the counter anchor (pin_counter.h)

struct PinKdf {
  uint8_t version = kKdfVersionCounted;
  crypto::Argon2Params params;
  Bytes salt;
};

Bytes EncodeKdf(const PinKdf& kdf);
// DecodeKdf: kCorruptStore on a malformed record or out-of-bounds parameters.
Result<PinKdf> DecodeKdf(std::span<const uint8_t> record);

// NewTokenKey: a fresh random token key.
Result<SecretBytes> NewTokenKey();

// HasCountedKdf: true for a version 2 row (its counter must be anchored);
// kCorruptStore on a malformed KDF record.
Result<bool> HasCountedKdf(const storage::AuthRow& row);

// SealTokenKey: a version 2 AuthRow for `role` holding `token_key` sealed
// under a key derived from `pin` with a fresh salt. tries_left = max_tries,
// attempts = 0 and a fresh counter anchor.
Result<storage::AuthRow> SealTokenKey(storage::TokenId token, storage::Role role, const SecretBytes& pin,
                                      const SecretBytes& token_key, const KdfConfig& kdf, uint32_t max_tries);

// OpenTokenKey: the token key if `pin` is right; Reason::kPinIncorrect if the
// tag does not verify; kCorruptStore if the row is malformed.
Result<SecretBytes> OpenTokenKey(const storage::AuthRow& row, const SecretBytes& pin);

}  // namespace certvault::core

#endif  // CERTVAULT_CORE_AUTH_H_
