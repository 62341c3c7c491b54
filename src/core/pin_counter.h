// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Tamper-evident PIN retry counter (docs/formats/token-key.md, "Retry
// counter"; docs/threat-model.md).
//
// Each role's counter state is `tries_left` and `max_tries` (auth table), the
// number of counted PIN checks since the role was last sealed (`attempts`,
// only ever raised by the store) and an anchor written at the last
// authenticated reset (a correct PIN, a PIN change, an SO reset):
//
//   anchor = version u8 (=1) | a0 u64 | max_tries u32 | nonce[12] | tag[16]
//   tag    = AES-256-GCM(token key, empty plaintext,
//            AAD = "certvault pin counter v1" | token_id u64 | role u8 | a0 u64 |
//                  max_tries u32 | wrapped_key_len u32 | wrapped_key)
//
// a0 is the value of `attempts` at that reset, so at any time
//   tries_left == max_tries - (attempts - a0).
// Setting tries_left (or max_tries) back with SQL breaks this equation and is
// seen before the KDF runs; moving a0 forward to match breaks the tag, which
// is checked after a correct PIN (the token key is needed for it). Either way
// the role is treated as locked.
#ifndef CERTVAULT_CORE_PIN_COUNTER_H_
#define CERTVAULT_CORE_PIN_COUNTER_H_

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/storage/store.h"

namespace certvault::core {

// MakeCounterAnchor: the anchor of `row` (its token, role, max_tries and
// wrapped key) with a0 = `a0`, authenticated under `token_key`.
Result<Bytes> MakeCounterAnchor(const SecretBytes& token_key, const storage::AuthRow& row, uint64_t a0);

// CheckCounterConsistent: kPinLocked unless `row`'s tries_left, max_tries and
// attempts agree with its anchor (no key needed: runs before the KDF). Rows
// sealed before the counter existed (KDF record version 1) pass.
Status CheckCounterConsistent(const storage::AuthRow& row);

// CheckCounterAuthentic: after a correct PIN: kPinLocked unless the anchor's
// tag verifies under `token_key` and at most max_tries checks were counted
// since it was written. Version 1 rows pass.
Status CheckCounterAuthentic(const SecretBytes& token_key, const storage::AuthRow& row);

}  // namespace certvault::core

#endif  // CERTVAULT_CORE_PIN_COUNTER_H_
