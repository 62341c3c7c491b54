// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The policy a token's quorum approved (issue 16, docs/design/quorum.md
// "Policy under the quorum"). A token with a quorum pins the SHA-256 of the
// vault's policy.toml ([vault] policy; no file: the digest of nothing) in its
// meta row "quorum/<token>/policy" = digest[32] | mac[32], mac =
// HMAC-SHA-256(HKDF(TK, "certvault quorum policy v1"), label | token u64 |
// digest). The vault generates keys on that token only while the policy it
// runs with is the pinned one; a new pin needs an approved `policy`
// operation (certvault quorum policy).
#ifndef CERTVAULT_CORE_POLICY_PIN_H_
#define CERTVAULT_CORE_POLICY_PIN_H_

#include <string>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/storage/store.h"

namespace certvault::core {

// PolicyDigest: SHA-256 of the file at `policy_path` ("" = no policy: the
// digest of no bytes). kUnavailable if the file cannot be read.
Result<Bytes> PolicyDigest(const std::string& policy_path);

// PinPolicy: writes the pin of `digest` for `token`, MACed under `token_key`.
Status PinPolicy(storage::Store& store, storage::TokenId token, const SecretBytes& token_key, const Bytes& digest);

// CheckPolicyPin: OK if the token has no pin, or its pin verifies and equals
// `digest`. kActionProhibited if the policy differs from the approved one;
// kCorruptStore if the pin does not verify under `token_key`.
Status CheckPolicyPin(storage::Store& store, storage::TokenId token, const SecretBytes& token_key, const Bytes& digest);

}  // namespace certvault::core

#endif  // CERTVAULT_CORE_POLICY_PIN_H_
