// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The vault's own objects (issue 14, docs/design/provisioning.md): templates
// for the identity/transport keys and certificates, the pinned authority and
// the provisioning state, and the state's encoding. Pure functions.
#ifndef CERTVAULT_CORE_VAULT_OBJECTS_H_
#define CERTVAULT_CORE_VAULT_OBJECTS_H_

#include <openssl/evp.h>

#include <string>
#include <vector>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/crypto/x509_build.h"
#include "src/model/types.h"

namespace certvault::core::vault {

inline constexpr char kIdentityLabel[] = "certvault identity";
inline constexpr char kTransportLabel[] = "certvault transport";
inline constexpr char kAuthorityLabel[] = "certvault authority";
inline constexpr char kStateLabel[] = "certvault provisioning";
inline constexpr size_t kMaxNonces = 8;

// RoleClass / RoleLabel: where an object of `role` (kCvRole*) is found.
uint64_t RoleClass(uint64_t role);
const char* RoleLabel(uint64_t role);

// KeyTemplates: the generation templates of the identity or transport key
// pair: P-256, sensitive, never extractable, no capability attribute set, not
// modifiable, copyable or destroyable.
void KeyTemplates(bool identity, AttributeSet* out_public, AttributeSet* out_private);

// CertificateTemplate: a CKO_CERTIFICATE creation template for `der`.
Result<AttributeSet> CertificateTemplate(std::span<const uint8_t> der, std::string_view label, const Bytes& id,
                                         bool locked);

// State: the provisioning state (CKO_DATA CKA_VALUE):
//   "CVP1" | counter u64 | n u8 | n x (len u8 | nonce)   (big-endian)
struct State {
  uint64_t counter = 0;
  std::vector<Bytes> nonces;  // outstanding request nonces, oldest first
};
Bytes EncodeState(const State& state);
// DecodeState: kCorruptStore if malformed.
Result<State> DecodeState(std::span<const uint8_t> value);
AttributeSet StateTemplate(const State& state);

}  // namespace certvault::core::vault

#endif  // CERTVAULT_CORE_VAULT_OBJECTS_H_
