// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Key policy: the [algorithms] rules of policy.toml (src/policy/policy.h)
// applied to a key the vault is about to store (C_GenerateKey(Pair),
// C_CreateObject, C_UnwrapKey). Pure function; thread-safe.
#ifndef CERTVAULT_CORE_KEY_POLICY_H_
#define CERTVAULT_CORE_KEY_POLICY_H_

#include <string>

#include "src/base/status.h"
#include "src/core/lifecycle.h"
#include "src/model/types.h"
#include "src/policy/policy.h"

namespace certvault::core {

// PolicyKeyType: the policy name of the key whose complete attributes (after
// MergeEngineAttributes) are `attrs`: "rsa-BITS", "ec-p256", "ec-p384",
// "ec-p521", "ed25519", "ed448"; "" for a key the policy does not name
// (an unknown curve, X25519/X448) and "secret" for secret keys.
std::string PolicyKeyType(const AttributeSet& attrs);

// CheckKeyAllowed: OK for secret keys (the policy does not govern them) and
// for public/private keys whose PolicyKeyType is in allowed_key_types (RSA
// also needs at least min_rsa_bits). Otherwise:
//   kKeySizeRange (CKR_KEY_SIZE_RANGE)  the family is allowed (some "rsa-*",
//       some "ec-*", "ed25519"/"ed448") but not this size or curve;
//   kTemplateInconsistent (CKR_TEMPLATE_INCONSISTENT)  the family is not
//       allowed at all, or the key is of a type the policy cannot name.
Status CheckKeyAllowed(const kmpolicy::Policy& policy, const AttributeSet& attrs);
// CheckKeyAllowed: OK without a policy (null), else the above.
inline Status CheckKeyAllowed(const kmpolicy::Policy* policy, const AttributeSet& attrs) {
  return policy == nullptr ? Status() : CheckKeyAllowed(*policy, attrs);
}

// ApplyKeyPeriod: policy.toml [crypto_periods] max_key_days (when the
// policy sets it) on a new private or secret key made on `today`: the key
// starts on CKA_START_DATE (else today) and may end (CKA_END_DATE, the last
// day of use) at most max_key_days later. No or an empty CKA_START_DATE is
// set to today and no or an empty CKA_END_DATE to that last day, so the
// stored key records its period; a later end is kTemplateInconsistent
// (CKR_TEMPLATE_INCONSISTENT) naming the rule; a malformed date
// kAttributeValueInvalid. Other objects and a null policy: OK, unchanged.
// The lifecycle checks then refuse protection after the end date.
Status ApplyKeyPeriod(const kmpolicy::Policy* policy, AttributeSet* attrs, lifecycle::Day today);

// CheckKeyPeriodChange: policy.toml [crypto_periods] max_key_days on a
// C_SetAttributeValue or C_CopyObject whose template `changes` names
// CKA_START_DATE or CKA_END_DATE of the private or secret key `current`.
// The period is anchored where it began: the key may end at most
// max_key_days after its stored CKA_START_DATE, and after the new one when
// that is earlier; a key stored without a start date may only end earlier
// than its stored CKA_END_DATE (with none, at most max_key_days after
// `today`). Moving the start date later therefore never extends the
// period, and clearing the end date is refused. Violations are
// kTemplateInconsistent naming the rule; a malformed date
// kAttributeValueInvalid. Other objects, other templates and a null policy
// (or max_key_days = 0): OK.
Status CheckKeyPeriodChange(const kmpolicy::Policy* policy, const AttributeSet& current, const AttributeSet& changes,
                            lifecycle::Day today);

// CapToBaseKeyPeriod: a key derived from `base` (C_DeriveKey) is used no
// longer than `base` may be. With a CKA_END_DATE on `base`, the new key's
// `attrs` end on it when they have no end date or one that the vault chose
// (ApplyKeyPeriod) later than it; an end date the caller's template `tmpl`
// asked for later than it is kTemplateInconsistent. A malformed date is
// kAttributeValueInvalid. Applies with or without a policy.
Status CapToBaseKeyPeriod(const AttributeSet& base, const AttributeSet& tmpl, AttributeSet* attrs);

}  // namespace certvault::core

#endif  // CERTVAULT_CORE_KEY_POLICY_H_
