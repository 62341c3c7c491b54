// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/core/lifecycle.h"

#include <array>
#include <cstring>

namespace certvault::lifecycle {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;
using std::chrono::year_month_day;

struct StateInfo {
  KeyState state;
  std::string_view name;
  bool protect;  // may apply protection (sign, MAC, encrypt, wrap, derive)
  bool process;  // may process protected data (verify, decrypt, unwrap)
};

constexpr std::array<StateInfo, 6> kStates = {{
    {KeyState::kPreActivation, "pre-activation", false, false},  // §7.1
    {KeyState::kActive, "active", true, true},                   // §7.2
    {KeyState::kSuspended, "suspended", false, true},            // §7.3
    {KeyState::kDeactivated, "deactivated", false, true},        // §7.4
    {KeyState::kCompromised, "compromised", false, false},       // §7.5 (certvault: nothing at all)
    {KeyState::kDestroyed, "destroyed", false, false},           // §7.6
}};

const StateInfo* InfoOf(KeyState state) {
  for (const StateInfo& s : kStates) {
    if (s.state == state) return &s;
  }
  return nullptr;
}

bool IsProcessUse(policy::Use use) {
  switch (use) {
    case policy::Use::kVerify:
    case policy::Use::kDecrypt:
    case policy::Use::kUnwrap:
      return true;
    default:
      return false;
  }
}

Status NotPermitted(KeyState effective, policy::Use use) {
  std::string msg = "the key is ";
  msg += StateName(effective);
  msg += IsProcessUse(use) ? ": it may not be used at all" : ": it may no longer apply protection";
  return Status(Reason::kKeyFunctionNotPermitted, msg);
}

bool PrintableReason(std::span<const uint8_t> v) {
  if (v.size() > kMaxReasonLength) return false;
  for (uint8_t c : v) {
    if (c < 0x20 || c == 0x7f) return false;  // UTF-8 continuation bytes (>= 0x80) pass
  }
  return true;
}

}  // namespace

std::optional<std::optional<Day>> DateOf(const AttributeSet& key, AttributeType type) {
  const Attribute* a = key.Find(type);
  if (a == nullptr || a->value.empty()) return std::optional<Day>();
  if (a->value.size() != 8) return std::nullopt;
  int v[8];
  for (size_t i = 0; i < 8; ++i) {
    if (a->value[i] < '0' || a->value[i] > '9') return std::nullopt;
    v[i] = a->value[i] - '0';
  }
  year_month_day ymd{year(v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3]), month(unsigned(v[4] * 10 + v[5])),
                     day(unsigned(v[6] * 10 + v[7]))};
  if (!ymd.ok()) return std::nullopt;  // e.g. 20250231: fail closed
  return std::optional<Day>(Day(ymd));
}

Day Today() { return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()); }

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string_view StateName(KeyState state) {
  const StateInfo* info = InfoOf(state);
  return info == nullptr ? "invalid" : info->name;
}

std::optional<KeyState> ParseStateName(std::string_view name) {
  for (const StateInfo& s : kStates) {
    if (s.name == name) return s.state;
  }
  return std::nullopt;
}

bool IsKey(const AttributeSet& object) {
  const uint64_t cls = object.GetUlong(CKA_CLASS).value_or(CKO_VENDOR_DEFINED);
  return cls == CKO_PUBLIC_KEY || cls == CKO_PRIVATE_KEY || cls == CKO_SECRET_KEY;
}

std::optional<KeyState> StoredState(const AttributeSet& key) {
  if (!key.Has(kCkaCvKeyState)) return KeyState::kActive;  // stored before states existed
  std::optional<uint64_t> v = key.GetUlong(kCkaCvKeyState);
  if (!v || *v == 0 || *v > kCvStateDestroyed) return std::nullopt;
  return static_cast<KeyState>(*v);
}

std::optional<KeyState> EffectiveState(const AttributeSet& key, Day today) {
  std::optional<KeyState> stored = StoredState(key);
  auto start = DateOf(key, CKA_START_DATE);
  auto end = DateOf(key, CKA_END_DATE);
  if (!stored || !start || !end) return std::nullopt;
  const bool active_or_suspended = *stored == KeyState::kActive || *stored == KeyState::kSuspended;
  // The end date is the last day of use (inclusive), as the start date is the first.
  if (active_or_suspended && *end && today > **end) return KeyState::kDeactivated;
  if (*stored == KeyState::kActive && *start && today < **start) return KeyState::kPreActivation;
  return stored;
}

bool TransitionAllowed(KeyState from, KeyState to) {
  using K = KeyState;
  switch (from) {
    case K::kPreActivation:
      return to == K::kActive || to == K::kCompromised || to == K::kDestroyed;
    case K::kActive:
      return to == K::kSuspended || to == K::kDeactivated || to == K::kCompromised || to == K::kDestroyed;
    case K::kSuspended:
      return to == K::kActive || to == K::kDeactivated || to == K::kCompromised || to == K::kDestroyed;
    case K::kDeactivated:
      return to == K::kCompromised || to == K::kDestroyed;
    case K::kCompromised:
      return to == K::kDestroyed;
    case K::kDestroyed:
    case K::kDoNotUse:
    default:
      return false;
  }
}

Status CheckUse(const AttributeSet& key, policy::Use use, Day today) {
  if (!IsKey(key)) return OkStatus();
  std::optional<KeyState> effective = EffectiveState(key, today);
  if (!effective) {
    return Status(Reason::kKeyFunctionNotPermitted, "the key's state or CKA_START_DATE/CKA_END_DATE is malformed");
  }
  const StateInfo* info = InfoOf(*effective);
  if (info != nullptr && (IsProcessUse(use) ? info->process : info->protect)) return OkStatus();
  return NotPermitted(*effective, use);
}

std::optional<Day> ProtectUntil(const AttributeSet& key) {
  auto end = DateOf(key, CKA_END_DATE);
  if (!end || !*end) return std::nullopt;
  return **end + std::chrono::days(1);
}

Status CheckInitialState(const AttributeSet& tmpl) {
  if (!tmpl.Has(kCkaCvKeyState)) return OkStatus();
  std::optional<uint64_t> v = tmpl.GetUlong(kCkaCvKeyState);
  if (v && (*v == kCvStatePreActivation || *v == kCvStateActive)) return OkStatus();
  return Status(Reason::kAttributeValueInvalid, "a new key starts pre-activation or active");
}

void StampNewKey(AttributeSet* attrs, int64_t now) {
  if (!IsKey(*attrs) || attrs->Has(kCkaCvKeyStateTime)) return;
  if (!attrs->Has(kCkaCvKeyState)) attrs->SetUlong(kCkaCvKeyState, kCvStateActive);
  attrs->SetUlong(kCkaCvKeyStateTime, static_cast<uint64_t>(now));
}

Status CheckDateChange(const AttributeSet& current, const AttributeSet& changes, Day today) {
  if (!IsKey(current) || (!changes.Has(CKA_START_DATE) && !changes.Has(CKA_END_DATE))) return OkStatus();
  std::optional<KeyState> effective = EffectiveState(current, today);
  if (effective == KeyState::kPreActivation || effective == KeyState::kActive) return OkStatus();
  return Status(Reason::kAttributeReadOnly, std::string("the key is ") +
                                                std::string(StateName(effective.value_or(KeyState::kDoNotUse))) +
                                                ": its crypto-period dates can no longer change");
}

bool IsTransitionRequest(const AttributeSet& changes) {
  return changes.Has(kCkaCvKeyState) || changes.Has(kCkaCvKeyStateReason);
}

Result<Transition> PlanTransition(const AttributeSet& current, const AttributeSet& changes, int64_t now) {
  if (!IsKey(current)) return Status(Reason::kAttributeTypeInvalid, "only keys have a lifecycle state");
  for (const Attribute& a : changes.items()) {
    if (a.type != kCkaCvKeyState && a.type != kCkaCvKeyStateReason) {
      return Status(Reason::kTemplateInconsistent, "a state transition changes nothing else");
    }
  }
  if (!changes.Has(kCkaCvKeyState)) return Status(Reason::kTemplateIncomplete, "a reason needs a new state");
  std::optional<uint64_t> v = changes.GetUlong(kCkaCvKeyState);
  if (!v || *v == 0 || *v > kCvStateDestroyed) return Status(Reason::kAttributeValueInvalid, "not a key state");
  std::optional<KeyState> from = StoredState(current);
  if (!from) return Status(Reason::kCorruptStore, "the key's stored state is malformed");
  Transition t{*from, static_cast<KeyState>(*v), {}, now};
  if (!TransitionAllowed(t.from, t.to)) {
    return Status(Reason::kAttributeValueInvalid, std::string("no transition from ") + std::string(StateName(t.from)) +
                                                      " to " + std::string(StateName(t.to)) + " (SP 800-57 Part 1 §7)");
  }
  if (auto reason = changes.GetBytes(kCkaCvKeyStateReason)) {
    if (!PrintableReason(*reason)) {
      return Status(Reason::kAttributeValueInvalid, "the reason must be at most 256 bytes of printable text");
    }
    t.reason.assign(reason->begin(), reason->end());
  }
  return t;
}

void ApplyTransition(const Transition& t, AttributeSet* attrs) {
  attrs->SetUlong(kCkaCvKeyState, static_cast<uint64_t>(t.to));
  attrs->SetUlong(kCkaCvKeyStateTime, static_cast<uint64_t>(t.time));
  attrs->SetString(kCkaCvKeyStateReason, t.reason);
}

}  // namespace certvault::lifecycle
