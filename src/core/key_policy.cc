// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/core/key_policy.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <span>

#include "src/core/event_recorder.h"
#include "src/model/pkcs11_constants.h"

namespace certvault::core {
namespace {

// Violation: the refusal of a policy.toml `rule`; the operation's event (if
// it is logged) becomes a "policy_violation" (MarkPolicyViolation).
Status Violation(Reason reason, const std::string& rule, const std::string& message) {
  MarkPolicyViolation(rule);
  return Status(reason, message);
}

// DER OBJECT IDENTIFIERs of CKA_EC_PARAMS (RFC 5480 §2.1.1.1, RFC 8410 §3)
// and the printable-string forms PKCS#11 v3.0 §2.3.5 allows for Edwards.
struct CurveName {
  std::span<const uint8_t> der;
  const char* name;
};
constexpr std::array<uint8_t, 10> kP256 = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
constexpr std::array<uint8_t, 7> kP384 = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
constexpr std::array<uint8_t, 7> kP521 = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};
constexpr std::array<uint8_t, 5> kEd25519 = {0x06, 0x03, 0x2b, 0x65, 0x70};
constexpr std::array<uint8_t, 5> kEd448 = {0x06, 0x03, 0x2b, 0x65, 0x71};
constexpr std::array<uint8_t, 14> kEd25519Name = {0x13, 0x0c, 'e', 'd', 'w', 'a', 'r', 'd', 's', '2', '5', '5', '1', '9'};
constexpr std::array<uint8_t, 12> kEd448Name = {0x13, 0x0a, 'e', 'd', 'w', 'a', 'r', 'd', 's', '4', '4', '8'};

std::string CurveOf(const AttributeSet& attrs) {
  static const CurveName kCurves[] = {{kP256, "ec-p256"},       {kP384, "ec-p384"}, {kP521, "ec-p521"},
                                      {kEd25519, "ed25519"},     {kEd448, "ed448"},  {kEd25519Name, "ed25519"},
                                      {kEd448Name, "ed448"}};
  std::optional<std::span<const uint8_t>> params = attrs.GetBytes(CKA_EC_PARAMS);
  if (!params) return "";
  for (const CurveName& c : kCurves) {
    if (std::equal(params->begin(), params->end(), c.der.begin(), c.der.end())) return c.name;
  }
  return "";
}

// RsaBits: CKA_MODULUS_BITS, else the bit length of CKA_MODULUS; 0 if neither.
uint64_t RsaBits(const AttributeSet& attrs) {
  if (std::optional<uint64_t> bits = attrs.GetUlong(CKA_MODULUS_BITS)) return *bits;
  std::optional<std::span<const uint8_t>> n = attrs.GetBytes(CKA_MODULUS);
  if (!n) return 0;
  size_t i = 0;
  while (i < n->size() && (*n)[i] == 0) ++i;
  if (i == n->size()) return 0;
  uint64_t bits = (n->size() - i) * 8;
  for (uint8_t top = (*n)[i]; (top & 0x80) == 0; top <<= 1) --bits;
  return bits;
}

// Family: "rsa-", "ec-" or the Edwards curve name itself (each its own family
// of one size: ed25519 and ed448 are then two sizes of "ed").
std::string Family(const std::string& type) {
  if (type.starts_with("rsa-")) return "rsa-";
  if (type.starts_with("ec-")) return "ec-";
  if (type.starts_with("ed")) return "ed";
  return type;
}

}  // namespace

std::string PolicyKeyType(const AttributeSet& attrs) {
  std::optional<uint64_t> cls = attrs.GetUlong(CKA_CLASS);
  if (cls && *cls == CKO_SECRET_KEY) return "secret";
  std::optional<uint64_t> kt = attrs.GetUlong(CKA_KEY_TYPE);
  if (!kt) return "";
  if (*kt == CKK_RSA) {
    uint64_t bits = RsaBits(attrs);
    return bits == 0 ? "" : "rsa-" + std::to_string(bits);
  }
  if (*kt == CKK_EC || *kt == CKK_EC_EDWARDS) {
    std::string curve = CurveOf(attrs);
    bool edwards = curve.starts_with("ed");
    return (*kt == CKK_EC_EDWARDS) == edwards ? curve : "";
  }
  return "";
}

Status CheckKeyAllowed(const kmpolicy::Policy& policy, const AttributeSet& attrs) {
  std::optional<uint64_t> cls = attrs.GetUlong(CKA_CLASS);
  if (!cls || (*cls != CKO_PUBLIC_KEY && *cls != CKO_PRIVATE_KEY)) return OkStatus();
  std::string type = PolicyKeyType(attrs);
  const std::vector<std::string>& allowed = policy.allowed_key_types;
  bool listed = !type.empty() && std::find(allowed.begin(), allowed.end(), type) != allowed.end();
  bool rsa_ok = !type.starts_with("rsa-") || RsaBits(attrs) >= policy.min_rsa_bits;
  if (listed && rsa_ok) return OkStatus();
  std::string what = "the key type " + (type.empty() ? std::string("(not nameable)") : type) +
                     " is not allowed by the policy " + policy.name + " ([algorithms] allowed_key_types";
  bool family_allowed = !type.empty() && std::any_of(allowed.begin(), allowed.end(), [&](const std::string& a) {
    return Family(a) == Family(type);
  });
  if (family_allowed) return Violation(Reason::kKeySizeRange, "[algorithms] min_rsa_bits", what + ", min_rsa_bits)");
  return Violation(Reason::kTemplateInconsistent, "[algorithms] allowed_key_types", what + ")");
}

namespace {

std::string CkDate(lifecycle::Day d) {
  std::chrono::year_month_day ymd(d);
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d%02u%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

}  // namespace

Status ApplyKeyPeriod(const kmpolicy::Policy* policy, AttributeSet* attrs, lifecycle::Day today) {
  if (policy == nullptr || policy->max_key_days == 0) return OkStatus();
  uint64_t cls = attrs->GetUlong(CKA_CLASS).value_or(CKO_VENDOR_DEFINED);
  if (cls != CKO_PRIVATE_KEY && cls != CKO_SECRET_KEY) return OkStatus();  // verification may outlive it
  auto start = lifecycle::DateOf(*attrs, CKA_START_DATE);
  auto end = lifecycle::DateOf(*attrs, CKA_END_DATE);
  if (!start || !end) return Status(Reason::kAttributeValueInvalid, "CKA_START_DATE or CKA_END_DATE is malformed");
  lifecycle::Day last = start->value_or(today) + std::chrono::days(policy->max_key_days);
  // The start is recorded so that the period stays anchored where it began
  // (CheckKeyPeriodChange): today is when the key becomes usable anyway.
  if (!start->has_value()) attrs->SetString(CKA_START_DATE, CkDate(today));
  if (!end->has_value()) {
    attrs->SetString(CKA_END_DATE, CkDate(last));
    return OkStatus();
  }
  if (**end > last) {
    return Violation(Reason::kTemplateInconsistent, "[crypto_periods] max_key_days",
                     "policy.toml [crypto_periods] max_key_days = " + std::to_string(policy->max_key_days) +
                         ": CKA_END_DATE " + CkDate(**end) + " is after " + CkDate(last));
  }
  return OkStatus();
}

namespace {

bool IsPeriodKey(const AttributeSet& attrs) {
  uint64_t cls = attrs.GetUlong(CKA_CLASS).value_or(CKO_VENDOR_DEFINED);
  return cls == CKO_PRIVATE_KEY || cls == CKO_SECRET_KEY;
}

using MaybeDay = std::optional<lifecycle::Day>;

// LatestEnd: the last end date policy allows after a date change (see
// CheckKeyPeriodChange in the header).
lifecycle::Day LatestEnd(MaybeDay old_start, MaybeDay old_end, MaybeDay new_start, std::chrono::days max,
                         lifecycle::Day today) {
  lifecycle::Day last = old_start ? *old_start + max : old_end.value_or(today + max);
  if (new_start) last = std::min(last, *new_start + max);
  return last;
}

}  // namespace

Status CheckKeyPeriodChange(const kmpolicy::Policy* policy, const AttributeSet& current, const AttributeSet& changes,
                            lifecycle::Day today) {
  if (policy == nullptr || policy->max_key_days == 0 || !IsPeriodKey(current)) return OkStatus();
  if (!changes.Has(CKA_START_DATE) && !changes.Has(CKA_END_DATE)) return OkStatus();
  auto old_start = lifecycle::DateOf(current, CKA_START_DATE);
  auto old_end = lifecycle::DateOf(current, CKA_END_DATE);
  auto new_start = changes.Has(CKA_START_DATE) ? lifecycle::DateOf(changes, CKA_START_DATE) : old_start;
  auto new_end = changes.Has(CKA_END_DATE) ? lifecycle::DateOf(changes, CKA_END_DATE) : old_end;
  if (!old_start || !old_end || !new_start || !new_end) {
    return Status(Reason::kAttributeValueInvalid, "CKA_START_DATE or CKA_END_DATE is malformed");
  }
  const std::string rule = "policy.toml [crypto_periods] max_key_days = " + std::to_string(policy->max_key_days);
  if (!new_end->has_value()) {
    return Violation(Reason::kTemplateInconsistent, "[crypto_periods] max_key_days", rule + ": the key needs a CKA_END_DATE");
  }
  lifecycle::Day last = LatestEnd(*old_start, *old_end, *new_start, std::chrono::days(policy->max_key_days), today);
  if (**new_end > last) {
    return Violation(Reason::kTemplateInconsistent, "[crypto_periods] max_key_days",
                     rule + ": the key's crypto-period may end on " + CkDate(last) + " at the latest, not " +
                         CkDate(**new_end));
  }
  return OkStatus();
}

Status CapToBaseKeyPeriod(const AttributeSet& base, const AttributeSet& tmpl, AttributeSet* attrs) {
  auto base_end = lifecycle::DateOf(base, CKA_END_DATE);
  auto asked = lifecycle::DateOf(tmpl, CKA_END_DATE);
  auto end = lifecycle::DateOf(*attrs, CKA_END_DATE);
  if (!base_end || !asked || !end) return Status(Reason::kAttributeValueInvalid, "CKA_END_DATE is malformed");
  if (!base_end->has_value() || (end->has_value() && **end <= **base_end)) return OkStatus();
  if (asked->has_value()) {
    return Status(Reason::kTemplateInconsistent, "a derived key may not outlive its base key: CKA_END_DATE " +
                                                     CkDate(**asked) + " is after the base key's " +
                                                     CkDate(**base_end));
  }
  attrs->SetString(CKA_END_DATE, CkDate(**base_end));
  return OkStatus();
}

}  // namespace certvault::core
