// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault::lifecycle: key states and crypto-periods (NIST SP 800-57 Part 1
// Rev. 5 §7, "Key states and transitions"), and CKA_START_DATE/CKA_END_DATE
// (PKCS#11 v3.0 §4.7, CK_DATE, read as UTC days) enforced on key use.
//
// A key's stored state is its CKA_CV_KEY_STATE (src/model/vendor_attributes.h);
// a key stored before states existed has none and counts as active. The
// effective state adds the dates: an active key before its start date is
// pre-activation, an active or suspended key after its end date (inclusive)
// is deactivated. The effective state decides every use:
//
//   state           protect (sign, MAC, encrypt, wrap, derive)  process (verify, decrypt, unwrap)
//   pre-activation  no                                          no
//   active          yes                                         yes
//   suspended       no                                          yes
//   deactivated     no                                          yes
//   compromised     no                                          no
//   destroyed       no (no key material is kept)                no
//
// Refusals are kKeyFunctionNotPermitted (CKR_KEY_FUNCTION_NOT_PERMITTED).
// Transitions (§7, Figure 3, transitions 2-15; docs/design/attributes.md):
//   pre-activation -> active | compromised | destroyed
//   active         -> suspended | deactivated | compromised | destroyed
//   suspended      -> active | deactivated | compromised | destroyed
//   deactivated    -> compromised | destroyed
//   compromised    -> destroyed
// §7.3: "A suspended key shall not be used to apply cryptographic protection
// ... However, a suspended key could be used to process information that was
// protected prior to the suspension".
//
// Everything here is a pure function of its arguments (the caller passes the
// time); all are thread-safe.
#ifndef CERTVAULT_CORE_LIFECYCLE_H_
#define CERTVAULT_CORE_LIFECYCLE_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "src/base/result.h"
#include "src/base/status.h"
#include "src/core/policy.h"
#include "src/model/types.h"
#include "src/model/vendor_attributes.h"

namespace certvault::lifecycle {

enum class KeyState : uint8_t {
  kDoNotUse = 0,
  kPreActivation = kCvStatePreActivation,
  kActive = kCvStateActive,
  kSuspended = kCvStateSuspended,
  kDeactivated = kCvStateDeactivated,
  kCompromised = kCvStateCompromised,
  kDestroyed = kCvStateDestroyed,
};

inline constexpr size_t kMaxReasonLength = 256;

using Day = std::chrono::sys_days;

// DateOf: a CK_DATE attribute of `key` (§4.7: empty = not set) as a UTC
// day. Outer nullopt: malformed; inner nullopt: not set.
std::optional<std::optional<Day>> DateOf(const AttributeSet& key, AttributeType type);

// Today: the current UTC day (system clock).
Day Today();
// NowSeconds: the current time in seconds since the Unix epoch.
int64_t NowSeconds();

// StateName: "pre-activation", "active", "suspended", "deactivated",
// "compromised", "destroyed" ("invalid" otherwise).
std::string_view StateName(KeyState state);
// ParseStateName: the state named `name` (as StateName spells it); nullopt otherwise.
std::optional<KeyState> ParseStateName(std::string_view name);

// IsKey: true for CKO_PUBLIC_KEY, CKO_PRIVATE_KEY and CKO_SECRET_KEY objects.
bool IsKey(const AttributeSet& object);

// StoredState: CKA_CV_KEY_STATE of `key` (absent: kActive); nullopt if the
// value is malformed (not 8 bytes, or not a state).
std::optional<KeyState> StoredState(const AttributeSet& key);

// EffectiveState: the stored state with the dates applied (see the file
// comment). nullopt if the state or a date is malformed (callers fail closed).
std::optional<KeyState> EffectiveState(const AttributeSet& key, Day today);

// TransitionAllowed: whether `from` -> `to` is one of the transitions above.
bool TransitionAllowed(KeyState from, KeyState to);

// CheckUse: OK if the effective state of `key` today permits `use`;
// kKeyFunctionNotPermitted otherwise (also for a malformed state or date).
// Objects that are not keys pass (no lifecycle).
Status CheckUse(const AttributeSet& key, policy::Use use, Day today);

// ProtectUntil: the first day on which the key may no longer be used to
// protect because its CKA_END_DATE has passed; nullopt without an end date.
// (Cached operations are not reused past it.)
std::optional<Day> ProtectUntil(const AttributeSet& key);

// CheckInitialState: a creation template may give CKA_CV_KEY_STATE only as
// pre-activation or active (kAttributeValueInvalid otherwise).
Status CheckInitialState(const AttributeSet& tmpl);

// StampNewKey: for a new key object (not a copy of one): CKA_CV_KEY_STATE
// active unless the template chose it, and CKA_CV_KEY_STATE_TIME `now`.
// No-op for other objects and for keys that already carry a state time.
void StampNewKey(AttributeSet* attrs, int64_t now);

// CheckDateChange: C_SetAttributeValue may move CKA_START_DATE/CKA_END_DATE
// only while the key's effective state is pre-activation or active: a closed
// crypto-period is never reopened by a date (kAttributeReadOnly otherwise).
Status CheckDateChange(const AttributeSet& current, const AttributeSet& changes, Day today);

// IsTransitionRequest: `changes` names CKA_CV_KEY_STATE or CKA_CV_KEY_STATE_REASON.
bool IsTransitionRequest(const AttributeSet& changes);

// Transition: a planned state change of one key.
struct Transition {
  KeyState from = KeyState::kDoNotUse;
  KeyState to = KeyState::kDoNotUse;
  std::string reason;
  int64_t time = 0;  // seconds since the Unix epoch
};

// PlanTransition: validates a transition request `changes` on key `current`
// at time `now`: `changes` holds CKA_CV_KEY_STATE and optionally
// CKA_CV_KEY_STATE_REASON, nothing else (kTemplateInconsistent; the reason
// alone is kTemplateIncomplete); `current` is a key (kAttributeTypeInvalid);
// the state value is a state and the direction allowed, and the reason at
// most kMaxReasonLength bytes of printable text (kAttributeValueInvalid).
Result<Transition> PlanTransition(const AttributeSet& current, const AttributeSet& changes, int64_t now);

// ApplyTransition: writes the state, time and reason of `t` into `attrs`.
void ApplyTransition(const Transition& t, AttributeSet* attrs);

}  // namespace certvault::lifecycle

#endif  // CERTVAULT_CORE_LIFECYCLE_H_
