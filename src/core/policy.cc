// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The attribute rules of PKCS#11 v3.0 base spec §4 (and the key object
// sections of the current mechanisms spec §2), as one table. Footnote numbers
// in comments refer to the common footnotes of §4 (Table 10):
//   1 must be given on C_CreateObject     2 must not be given on C_CreateObject
//   3 must be given on generate           4 must not be given on generate
//   5 must be given on C_UnwrapKey        6 must not be given on C_UnwrapKey
//   7 sensitive                           8 modifiable (C_SetAttributeValue, copy)
//   10 TRUE only by the SO  11 read-only once TRUE  12 read-only once FALSE
#include "src/core/policy.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>

#include "src/base/status_macros.h"
#include "src/core/lifecycle.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"

namespace certvault::policy {
namespace {

// Object classes as bits.
enum : uint8_t { kData = 1, kCert = 2, kPub = 4, kPriv = 8, kSecret = 16 };
constexpr uint8_t kAllClasses = kData | kCert | kPub | kPriv | kSecret;
constexpr uint8_t kKeys = kPub | kPriv | kSecret;
constexpr uint8_t kPrivSecret = kPriv | kSecret;

// Key types as bits (kNoKey: data objects and certificates).
enum : uint8_t { kNoKey = 1, kRsa = 2, kEc = 4, kEd = 8, kMont = 16, kAes = 32, kGen = 64, kHmac = 128 };
constexpr uint8_t kAny = 0xFF;
constexpr uint8_t kEcLike = kEc | kEd | kMont;
constexpr uint8_t kAsym = kRsa | kEcLike;
constexpr uint8_t kSym = kAes | kGen | kHmac;

// Origins as bits (kCopy is not here: a copy re-validates, it does not set).
enum : uint8_t { oC = 1, oG = 2, oU = 4, oD = 8 };
constexpr uint8_t oAll = oC | oG | oU | oD;

// Change: how C_SetAttributeValue / C_CopyObject may change the attribute.
enum class Change : uint8_t {
  kNever,     // read-only after creation
  kAlways,    // footnote 8
  kToTrue,    // footnotes 8+11: only FALSE -> TRUE
  kToFalse,   // footnotes 8+12: only TRUE -> FALSE
  kCopyOnly,  // §4.4.1: "CKA_TOKEN, CKA_PRIVATE, CKA_MODIFIABLE can be changed in the process of copying"
};

enum class Def : uint8_t { kNone, kFalse, kTrue, kZero, kEmpty };

enum : uint8_t {
  kSensitive = 1,  // footnote 7; stored encrypted (IsSecretAttribute)
  kMaterial = 2,   // key material the engine normalizes: its value replaces the caller's
  kNonEmpty = 4,   // an empty value is invalid
};

struct Rule {
  AttributeType type;
  ValueKind kind;
  uint8_t classes;   // class bits the row applies to
  uint8_t keys;      // key-type bits the row applies to
  uint8_t settable;  // origins whose template may carry it; 0 = never (read-only)
  uint8_t required;  // origins whose template must carry it
  Change change;
  Def def;
  uint8_t flags;
};

using VK = ValueKind;
using C = Change;

// The table. For a (type, class, key type) the first matching row applies, so
// key-type-specific defaults come before the general row.
constexpr Rule kRules[] = {
    // §4.4 Storage objects (all classes).
    {CKA_CLASS, VK::kUlong, kAllClasses, kAny, oAll, oC, C::kNever, Def::kNone, 0},
    {CKA_TOKEN, VK::kBool, kAllClasses, kAny, oAll, 0, C::kCopyOnly, Def::kFalse, 0},
    {CKA_PRIVATE, VK::kBool, kPrivSecret, kAny, oAll, 0, C::kCopyOnly, Def::kTrue, 0},
    {CKA_PRIVATE, VK::kBool, kAllClasses, kAny, oAll, 0, C::kCopyOnly, Def::kFalse, 0},
    {CKA_MODIFIABLE, VK::kBool, kAllClasses, kAny, oAll, 0, C::kCopyOnly, Def::kTrue, 0},
    {CKA_COPYABLE, VK::kBool, kAllClasses, kAny, oAll, 0, C::kToFalse, Def::kTrue, 0},
    {CKA_DESTROYABLE, VK::kBool, kAllClasses, kAny, oAll, 0, C::kCopyOnly, Def::kTrue, 0},
    {CKA_LABEL, VK::kBytes, kAllClasses, kAny, oAll, 0, C::kAlways, Def::kEmpty, 0},
    {kCkaUniqueId, VK::kBytes, kAllClasses, kAny, 0, 0, C::kNever, Def::kNone, 0},  // 2,4,6: token-assigned
    // §4.5 Data objects.
    {CKA_APPLICATION, VK::kBytes, kData, kAny, oC, 0, C::kAlways, Def::kEmpty, 0},
    {CKA_OBJECT_ID, VK::kBytes, kData, kAny, oC, 0, C::kAlways, Def::kEmpty, 0},
    {CKA_VALUE, VK::kBytes, kData, kAny, oC, 0, C::kAlways, Def::kEmpty, 0},
    // §4.6.1 Certificates, §4.6.3 X.509 public key certificates.
    {CKA_CERTIFICATE_TYPE, VK::kUlong, kCert, kAny, oC, oC, C::kNever, Def::kNone, 0},
    {CKA_TRUSTED, VK::kBool, kCert | kPub | kSecret, kAny, oAll, 0, C::kAlways, Def::kFalse, 0},
    {CKA_CERTIFICATE_CATEGORY, VK::kUlong, kCert, kAny, oC, 0, C::kNever, Def::kZero, 0},
    {CKA_CHECK_VALUE, VK::kBytes, kCert, kAny, oC, 0, C::kNever, Def::kNone, 0},  // computed
    {CKA_START_DATE, VK::kDate, kCert | kKeys, kAny, oAll, 0, C::kAlways, Def::kEmpty, 0},
    {CKA_END_DATE, VK::kDate, kCert | kKeys, kAny, oAll, 0, C::kAlways, Def::kEmpty, 0},
    {CKA_PUBLIC_KEY_INFO, VK::kBytes, kCert, kAny, oC, 0, C::kNever, Def::kNone, 0},
    {CKA_PUBLIC_KEY_INFO, VK::kBytes, kPub | kPriv, kAny, oC | oU, 0, C::kNever, Def::kNone, 0},
    {CKA_SUBJECT, VK::kBytes, kCert, kAny, oC, oC, C::kNever, Def::kNone, kNonEmpty},
    {CKA_SUBJECT, VK::kBytes, kPub | kPriv, kAny, oAll, 0, C::kAlways, Def::kEmpty, 0},
    {CKA_ID, VK::kBytes, kCert | kKeys, kAny, oAll, 0, C::kAlways, Def::kEmpty, 0},
    {CKA_ISSUER, VK::kBytes, kCert, kAny, oC, 0, C::kAlways, Def::kEmpty, 0},
    {CKA_SERIAL_NUMBER, VK::kBytes, kCert, kAny, oC, 0, C::kAlways, Def::kEmpty, 0},
    {CKA_VALUE, VK::kBytes, kCert, kAny, oC, oC, C::kNever, Def::kNone, kNonEmpty},
    {CKA_URL, VK::kBytes, kCert, kAny, oC, 0, C::kNever, Def::kNone, 0},
    {CKA_HASH_OF_SUBJECT_PUBLIC_KEY, VK::kBytes, kCert, kAny, oC, 0, C::kNever, Def::kNone, 0},
    {CKA_HASH_OF_ISSUER_PUBLIC_KEY, VK::kBytes, kCert, kAny, oC, 0, C::kNever, Def::kNone, 0},
    {CKA_JAVA_MIDP_SECURITY_DOMAIN, VK::kUlong, kCert, kAny, oC, 0, C::kNever, Def::kZero, 0},
    {CKA_NAME_HASH_ALGORITHM, VK::kUlong, kCert, kAny, oC, 0, C::kNever, Def::kNone, 0},
    // §4.7 Keys: CKA_KEY_TYPE 1,5; CKA_LOCAL and CKA_KEY_GEN_MECHANISM 2,4,6.
    {CKA_KEY_TYPE, VK::kUlong, kKeys, kAny, oAll, oC | oU, C::kNever, Def::kNone, 0},
    {CKA_DERIVE, VK::kBool, kPriv, kMont, oAll, 0, C::kAlways, Def::kTrue, 0},
    {CKA_DERIVE, VK::kBool, kKeys, kAny, oAll, 0, C::kAlways, Def::kFalse, 0},
    {CKA_LOCAL, VK::kBool, kKeys, kAny, 0, 0, C::kNever, Def::kNone, 0},
    {CKA_KEY_GEN_MECHANISM, VK::kUlong, kKeys, kAny, 0, 0, C::kNever, Def::kNone, 0},
    {CKA_ALLOWED_MECHANISMS, VK::kUlongArray, kKeys, kAny, oAll, 0, C::kNever, Def::kNone, 0},
    // §4.8 Public keys, §4.9 private keys, §4.10 secret keys: capabilities (8).
    {CKA_ENCRYPT, VK::kBool, kPub, kRsa, oAll, 0, C::kAlways, Def::kTrue, 0},
    {CKA_ENCRYPT, VK::kBool, kSecret, kAes, oAll, 0, C::kAlways, Def::kTrue, 0},
    {CKA_ENCRYPT, VK::kBool, kPub | kSecret, kAny, oAll, 0, C::kAlways, Def::kFalse, 0},
    {CKA_DECRYPT, VK::kBool, kPriv, kRsa, oAll, 0, C::kAlways, Def::kTrue, 0},
    {CKA_DECRYPT, VK::kBool, kSecret, kAes, oAll, 0, C::kAlways, Def::kTrue, 0},
    {CKA_DECRYPT, VK::kBool, kPrivSecret, kAny, oAll, 0, C::kAlways, Def::kFalse, 0},
    {CKA_SIGN, VK::kBool, kPriv, kRsa | kEc | kEd, oAll, 0, C::kAlways, Def::kTrue, 0},
    {CKA_SIGN, VK::kBool, kSecret, kGen | kHmac, oAll, 0, C::kAlways, Def::kTrue, 0},
    {CKA_SIGN, VK::kBool, kPrivSecret, kAny, oAll, 0, C::kAlways, Def::kFalse, 0},
    {CKA_VERIFY, VK::kBool, kPub, kRsa | kEc | kEd, oAll, 0, C::kAlways, Def::kTrue, 0},
    {CKA_VERIFY, VK::kBool, kSecret, kGen | kHmac, oAll, 0, C::kAlways, Def::kTrue, 0},
    {CKA_VERIFY, VK::kBool, kPub | kSecret, kAny, oAll, 0, C::kAlways, Def::kFalse, 0},
    {CKA_SIGN_RECOVER, VK::kBool, kPriv, kAny, oAll, 0, C::kAlways, Def::kFalse, 0},
    {CKA_VERIFY_RECOVER, VK::kBool, kPub, kAny, oAll, 0, C::kAlways, Def::kFalse, 0},
    {CKA_WRAP, VK::kBool, kPub | kSecret, kAny, oAll, 0, C::kAlways, Def::kFalse, 0},
    {CKA_UNWRAP, VK::kBool, kPrivSecret, kAny, oAll, 0, C::kAlways, Def::kFalse, 0},
    // §4.9/§4.10 protection: CKA_SENSITIVE 8,11; CKA_EXTRACTABLE 8,12; earned 2,4,6.
    {CKA_SENSITIVE, VK::kBool, kPrivSecret, kAny, oAll, 0, C::kToTrue, Def::kTrue, 0},
    {CKA_EXTRACTABLE, VK::kBool, kPrivSecret, kAny, oAll, 0, C::kToFalse, Def::kFalse, 0},
    {CKA_ALWAYS_SENSITIVE, VK::kBool, kPrivSecret, kAny, 0, 0, C::kNever, Def::kNone, 0},
    {CKA_NEVER_EXTRACTABLE, VK::kBool, kPrivSecret, kAny, 0, 0, C::kNever, Def::kNone, 0},
    {CKA_WRAP_WITH_TRUSTED, VK::kBool, kPrivSecret, kAny, oAll, 0, C::kToTrue, Def::kFalse, 0},
    {CKA_ALWAYS_AUTHENTICATE, VK::kBool, kPriv, kAny, oAll, 0, C::kNever, Def::kFalse, 0},
    {CKA_CHECK_VALUE, VK::kBytes, kSecret, kAny, oC | oU, 0, C::kNever, Def::kNone, 0},
    // Mechanisms spec §2.1.2/§2.1.3 RSA keys.
    {CKA_MODULUS, VK::kBigInt, kPub | kPriv, kRsa, oC, oC, C::kNever, Def::kNone, kMaterial},
    {CKA_MODULUS_BITS, VK::kUlong, kPub, kRsa, oG, oG, C::kNever, Def::kNone, 0},
    {CKA_PUBLIC_EXPONENT, VK::kBigInt, kPub, kRsa, oC | oG, oC, C::kNever, Def::kNone, kMaterial},
    // certvault requires e on private key import: the engine cannot compute it.
    {CKA_PUBLIC_EXPONENT, VK::kBigInt, kPriv, kRsa, oC, oC, C::kNever, Def::kNone, kMaterial},
    {CKA_PRIVATE_EXPONENT, VK::kBigInt, kPriv, kRsa, oC, oC, C::kNever, Def::kNone, kSensitive},
    {CKA_PRIME_1, VK::kBigInt, kPriv, kRsa, oC, 0, C::kNever, Def::kNone, kSensitive},
    {CKA_PRIME_2, VK::kBigInt, kPriv, kRsa, oC, 0, C::kNever, Def::kNone, kSensitive},
    {CKA_EXPONENT_1, VK::kBigInt, kPriv, kRsa, oC, 0, C::kNever, Def::kNone, kSensitive},
    {CKA_EXPONENT_2, VK::kBigInt, kPriv, kRsa, oC, 0, C::kNever, Def::kNone, kSensitive},
    {CKA_COEFFICIENT, VK::kBigInt, kPriv, kRsa, oC, 0, C::kNever, Def::kNone, kSensitive},
    // §2.3.3/§2.3.4 EC, §2.3.5-§2.3.8 Edwards and Montgomery keys.
    {CKA_EC_PARAMS, VK::kBytes, kPub, kEcLike, oC | oG, oC | oG, C::kNever, Def::kNone, kMaterial | kNonEmpty},
    {CKA_EC_PARAMS, VK::kBytes, kPriv, kEcLike, oC, oC, C::kNever, Def::kNone, kMaterial | kNonEmpty},
    {CKA_EC_POINT, VK::kBytes, kPub, kEcLike, oC, oC, C::kNever, Def::kNone, kMaterial | kNonEmpty},
    {CKA_VALUE, VK::kBytes, kPriv, kEcLike, oC, oC, C::kNever, Def::kNone, kSensitive | kNonEmpty},
    // §2.8 generic secret, §2.15 AES, HMAC keys.
    {CKA_VALUE, VK::kBytes, kSecret, kSym, oC, oC, C::kNever, Def::kNone, kSensitive | kNonEmpty},
    {CKA_VALUE_LEN, VK::kUlong, kSecret, kSym, oG | oU | oD, oG, C::kNever, Def::kNone, 0},
    // certvault key lifecycle (src/core/lifecycle.h): the state changes only by
    // a transition (EmbeddedBackend::CommitTransition), never as an attribute.
    {kCkaCvKeyState, VK::kUlong, kKeys, kAny, oAll, 0, C::kNever, Def::kNone, 0},
    {kCkaCvKeyStateTime, VK::kUlong, kKeys, kAny, 0, 0, C::kNever, Def::kNone, 0},
    {kCkaCvKeyStateReason, VK::kBytes, kKeys, kAny, 0, 0, C::kNever, Def::kNone, 0},
    // Issue 14: set only by the vault (no origin may give them).
    {kCkaCvVaultRole, VK::kUlong, kKeys, kAny, 0, 0, C::kNever, Def::kNone, 0},
    {kCkaCvProvenance, VK::kUlong, kKeys, kAny, 0, 0, C::kNever, Def::kNone, 0},
    // Issue 16: set only by an approved quorum operation (backend_custody.cc).
    {kCkaCvQuorumProtected, VK::kBool, kKeys, kAny, 0, 0, C::kNever, Def::kNone, 0},
};

// Enumerated CK_ULONG values certvault accepts (others: kAttributeValueInvalid).
struct UlongRange {
  AttributeType type;
  uint64_t lo;
  uint64_t hi;
};
constexpr UlongRange kRanges[] = {
    {CKA_CERTIFICATE_TYPE, CKC_X_509, CKC_X_509},
    {CKA_CERTIFICATE_CATEGORY, 0, 3},  // unspecified, token user, authority, other entity
    {CKA_JAVA_MIDP_SECURITY_DOMAIN, 0, 3},
    {kCkaCvKeyState, kCvStatePreActivation, kCvStateDestroyed},
};

// Code -> bit maps (a value not listed maps to 0: unsupported).
struct CodeBit {
  uint64_t code;
  uint8_t bit;
};
constexpr CodeBit kClassBits[] = {
    {CKO_DATA, kData}, {CKO_CERTIFICATE, kCert}, {CKO_PUBLIC_KEY, kPub}, {CKO_PRIVATE_KEY, kPriv},
    {CKO_SECRET_KEY, kSecret}};
constexpr CodeBit kKeyBits[] = {
    {CKK_RSA, kRsa},           {CKK_EC, kEc},           {CKK_EC_EDWARDS, kEd},         {kCkkEcMontgomery, kMont},
    {CKK_AES, kAes},           {CKK_GENERIC_SECRET, kGen}, {CKK_SHA256_HMAC, kHmac}, {CKK_SHA384_HMAC, kHmac},
    {CKK_SHA512_HMAC, kHmac}};

template <size_t N>
uint8_t BitOf(const CodeBit (&map)[N], uint64_t code) {
  for (const CodeBit& e : map) {
    if (e.code == code) return e.bit;
  }
  return 0;
}

// Per origin: its bit, and the classes it can produce (§5.18 key management: generate makes
// keys, unwrap private/secret keys, derive secret keys in certvault). Indexed
// by Origin; kCopy has no bit (a copy re-validates, it does not set).
struct OriginInfo {
  uint8_t bit;
  uint8_t classes;
};
constexpr OriginInfo kOrigins[] = {
    {oC, kAllClasses}, {oG, kKeys}, {oU, kPrivSecret}, {oD, kSecret}, {0, kAllClasses}};

OriginInfo InfoOf(Origin origin) {
  size_t i = static_cast<size_t>(origin);
  return i < std::size(kOrigins) ? kOrigins[i] : OriginInfo{0, 0};
}

// ObjectShape: the class and key-type bits of an object being checked.
struct Shape {
  uint8_t cls = 0;
  uint8_t key = 0;
};

Shape ShapeOf(ObjectClass cls, KeyType key_type) {
  Shape s{BitOf(kClassBits, cls), kNoKey};
  if ((s.cls & kKeys) != 0) s.key = BitOf(kKeyBits, key_type);
  return s;
}

Shape ShapeOf(const AttributeSet& object) {
  return ShapeOf(object.GetUlong(CKA_CLASS).value_or(CKO_VENDOR_DEFINED),
                 object.GetUlong(CKA_KEY_TYPE).value_or(CKK_VENDOR_DEFINED));
}

// AnyRule: the first row for `type` regardless of class (nullptr: unsupported).
const Rule* AnyRule(AttributeType type) {
  const bool is_lifecycle = type == kCkaCvKeyState || type == kCkaCvKeyStateTime || type == kCkaCvKeyStateReason ||
                            type == kCkaCvVaultRole || type == kCkaCvProvenance ||
                            type == kCkaCvQuorumProtected;
  if (type >= CKA_VENDOR_DEFINED && !is_lifecycle) return nullptr;
  for (const Rule& r : kRules) {
    if (r.type == type) return &r;
  }
  return nullptr;
}

// FindRule: the row that applies to `type` for an object of `shape`.
const Rule* FindRule(AttributeType type, Shape shape) {
  for (const Rule& r : kRules) {
    if (r.type == type && (r.classes & shape.cls) != 0 && (r.keys & shape.key) != 0) return &r;
  }
  return nullptr;
}

bool ValidDate(std::span<const uint8_t> v) {
  if (v.empty()) return true;  // an empty CK_DATE means "not set" (§4.7)
  if (v.size() != 8) return false;
  if (!std::all_of(v.begin(), v.end(), [](uint8_t c) { return c >= '0' && c <= '9'; })) return false;
  int month = (v[4] - '0') * 10 + (v[5] - '0');
  int day = (v[6] - '0') * 10 + (v[7] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

bool ValidKind(ValueKind kind, std::span<const uint8_t> v) {
  switch (kind) {
    case ValueKind::kBool: return v.size() == 1 && (v[0] == CK_FALSE || v[0] == CK_TRUE);
    case ValueKind::kUlong: return v.size() == sizeof(CK_ULONG);
    case ValueKind::kBytes: return true;
    case ValueKind::kBigInt: return !v.empty();
    case ValueKind::kDate: return ValidDate(v);
    case ValueKind::kUlongArray: return v.size() % sizeof(CK_ULONG) == 0;
    default: return false;
  }
}

// Named: "CKA 0x108" for messages (types are public; values never appear).
std::string Named(AttributeType type) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "CKA 0x%llx", static_cast<unsigned long long>(type));
  return buf;
}

Status Fail(Reason reason, AttributeType type, std::string_view what) {
  return Status(reason, Named(type) + ": " + std::string(what));
}

// CheckValue: the encoding of one attribute (§4.1.1 rule 2).
Status CheckValue(const Attribute& a, const Rule& rule) {
  if (!ValidKind(rule.kind, a.value) || ((rule.flags & kNonEmpty) != 0 && a.value.empty())) {
    return Fail(Reason::kAttributeValueInvalid, a.type, "invalid value");
  }
  for (const UlongRange& range : kRanges) {
    if (range.type != a.type) continue;
    uint64_t v = 0;
    std::memcpy(&v, a.value.data(), sizeof(v));  // size checked above (kUlong)
    if (v < range.lo || v > range.hi) return Fail(Reason::kAttributeValueInvalid, a.type, "unsupported value");
  }
  return OkStatus();
}

// Lookup: the rule for `a` on an object of `shape`, after the checks every
// path shares: supported type (else kAttributeTypeInvalid), valid encoding.
// `not_for_class` is the reason when the type is valid but not for `shape`.
Result<const Rule*> Lookup(const Attribute& a, Shape shape, Reason not_for_class) {
  const Rule* any = AnyRule(a.type);
  if (any == nullptr) return Fail(Reason::kAttributeTypeInvalid, a.type, "unsupported attribute");
  if (!ValidKind(any->kind, a.value)) return Fail(Reason::kAttributeValueInvalid, a.type, "invalid encoding");
  const Rule* rule = FindRule(a.type, shape);
  if (rule == nullptr) return Fail(not_for_class, a.type, "not valid for this object class or key type");
  CV_RETURN_IF_ERROR(CheckValue(a, *rule));  // per-class flags (kNonEmpty) and ranges
  return rule;
}

bool SameValue(const Attribute* a, const Attribute* b) {
  return a != nullptr && b != nullptr && a->value.size() == b->value.size() &&
         std::equal(a->value.begin(), a->value.end(), b->value.begin());
}

// CheckShape: the class/key type/origin combination and the template's own
// CKA_CLASS / CKA_KEY_TYPE against the arguments (§4.1.1 rules 2 and 5).
Status CheckShape(ObjectClass cls, KeyType key_type, const AttributeSet& tmpl, Origin origin) {
  Shape shape = ShapeOf(cls, key_type);
  if (shape.cls == 0) return Fail(Reason::kAttributeValueInvalid, CKA_CLASS, "unsupported object class");
  if ((InfoOf(origin).classes & shape.cls) == 0) {
    return Fail(Reason::kTemplateInconsistent, CKA_CLASS, "this function cannot create this class");
  }
  if (tmpl.GetUlong(CKA_CLASS).value_or(cls) != cls) {
    return Fail(Reason::kTemplateInconsistent, CKA_CLASS, "differs from the object class");
  }
  if ((shape.cls & kKeys) == 0) return OkStatus();
  if (shape.key == 0) return Fail(Reason::kAttributeValueInvalid, CKA_KEY_TYPE, "unsupported key type");
  if ((shape.cls & kSecret) != 0 ? (shape.key & kSym) == 0 : (shape.key & kAsym) == 0) {
    return Fail(Reason::kTemplateInconsistent, CKA_KEY_TYPE, "key type does not fit the object class");
  }
  if (tmpl.GetUlong(CKA_KEY_TYPE).value_or(key_type) != key_type) {
    return Fail(Reason::kTemplateInconsistent, CKA_KEY_TYPE, "differs from the key type");
  }
  return OkStatus();
}

// CheckTemplateAttribute: one caller attribute for a new object (§4.1.1 rules 1-3, 5).
Status CheckTemplateAttribute(const Attribute& a, Shape shape, Origin origin) {
  CV_ASSIGN_OR_RETURN(const Rule* rule, Lookup(a, shape, Reason::kTemplateInconsistent));
  if (origin == Origin::kCopy) return OkStatus();  // the merged source set; CheckModify ran
  if (rule->settable == 0) return Fail(Reason::kAttributeReadOnly, a.type, "set by the token only");
  if ((rule->settable & InfoOf(origin).bit) == 0) {
    return Fail(Reason::kTemplateInconsistent, a.type, "must not be given for this function");
  }
  return OkStatus();
}

// CheckRequired: §4.1.1 rule 4, the table's "must be specified" footnotes (1, 3, 5).
Status CheckRequired(const AttributeSet& tmpl, Shape shape, Origin origin) {
  uint8_t bit = InfoOf(origin).bit;
  for (const Rule& r : kRules) {
    if ((r.required & bit) == 0 || FindRule(r.type, shape) != &r) continue;
    if (!tmpl.Has(r.type)) return Fail(Reason::kTemplateIncomplete, r.type, "required attribute missing");
  }
  return OkStatus();
}

// CheckKeySizes: values the table cannot express (mechanisms spec §2.15: an
// AES key is 16, 24 or 32 bytes).
Status CheckKeySizes(const AttributeSet& tmpl, Shape shape) {
  if (shape.key != kAes || !tmpl.Has(CKA_VALUE)) return OkStatus();
  size_t n = tmpl.Find(CKA_VALUE)->value.size();
  if (n != 16 && n != 24 && n != 32) return Fail(Reason::kAttributeValueInvalid, CKA_VALUE, "AES key size");
  return OkStatus();
}

void FillDefaults(AttributeSet* obj, Shape shape) {
  for (const Rule& r : kRules) {
    if (r.def == Def::kNone || obj->Has(r.type) || FindRule(r.type, shape) != &r) continue;
    switch (r.def) {
      case Def::kFalse: obj->SetBool(r.type, false); break;
      case Def::kTrue: obj->SetBool(r.type, true); break;
      case Def::kZero: obj->SetUlong(r.type, 0); break;
      case Def::kEmpty: obj->Set(r.type, {}); break;
      case Def::kNone:
      default: break;
    }
  }
}

// FillEarned: §4.7 CKA_LOCAL / CKA_KEY_GEN_MECHANISM ("valid only if CKA_LOCAL
// is CK_TRUE", else CK_UNAVAILABLE_INFORMATION); §4.9/§4.10 CKA_ALWAYS_SENSITIVE
// / CKA_NEVER_EXTRACTABLE. C_UnwrapKey (§5.18) and, conservatively here,
// C_DeriveKey yield FALSE for both. A copy keeps the source's values.
void FillEarned(AttributeSet* obj, Shape shape, Origin origin, MechanismType mechanism) {
  if ((shape.cls & kKeys) == 0) return;
  bool generated = origin == Origin::kGenerate;
  bool copy = origin == Origin::kCopy;
  if (!copy || !obj->Has(CKA_LOCAL)) obj->SetBool(CKA_LOCAL, generated);
  if (!copy || !obj->Has(CKA_KEY_GEN_MECHANISM)) {
    obj->SetUlong(CKA_KEY_GEN_MECHANISM, generated ? mechanism : kCkUnavailableInformation);
  }
  if ((shape.cls & kPrivSecret) == 0) return;
  if (!copy || !obj->Has(CKA_ALWAYS_SENSITIVE)) {
    obj->SetBool(CKA_ALWAYS_SENSITIVE, generated && obj->GetBoolOr(CKA_SENSITIVE, true));
  }
  if (!copy || !obj->Has(CKA_NEVER_EXTRACTABLE)) {
    obj->SetBool(CKA_NEVER_EXTRACTABLE, generated && !obj->GetBoolOr(CKA_EXTRACTABLE, false));
  }
}

// FillCheckValue: §4.6.1 CKA_CHECK_VALUE of a certificate, "the first three
// bytes of the SHA-1 hash of the certificate object's CKA_VALUE"; a value the
// caller gives must match it.
Status FillCheckValue(AttributeSet* obj) {
  auto value = obj->GetBytes(CKA_VALUE);
  if (!value.has_value()) return OkStatus();
  std::array<uint8_t, EVP_MAX_MD_SIZE> md{};
  size_t md_len = 0;
  if (EVP_Q_digest(crypto::LibCtx(), "SHA1", crypto::kPropq, value->data(), value->size(), md.data(), &md_len) != 1) {
    return ossl::OpenSslError("EVP_Q_digest");
  }
  Attribute computed{CKA_CHECK_VALUE, SecureVector(md.begin(), md.begin() + 3)};
  const Attribute* given = obj->Find(CKA_CHECK_VALUE);
  if (given != nullptr && !SameValue(given, &computed)) {
    return Fail(Reason::kAttributeValueInvalid, CKA_CHECK_VALUE, "does not match CKA_VALUE");
  }
  obj->Set(CKA_CHECK_VALUE, computed.value);
  return OkStatus();
}

// CheckChange: one C_SetAttributeValue / C_CopyObject change (§4.4.1, footnotes 8, 11, 12).
Status CheckChange(const Attribute& a, const Rule& rule, const AttributeSet& current, bool is_copy) {
  bool modifiable = current.GetBoolOr(CKA_MODIFIABLE, true);
  if (rule.change == Change::kNever) return Fail(Reason::kAttributeReadOnly, a.type, "read-only attribute");
  if (rule.change == Change::kCopyOnly) {
    return is_copy ? OkStatus() : Fail(Reason::kAttributeReadOnly, a.type, "can change only in C_CopyObject");
  }
  // §5.7 C_SetAttributeValue: CKR_ACTION_PROHIBITED when the object has CKA_MODIFIABLE=FALSE.
  if (!modifiable) return Fail(Reason::kActionProhibited, a.type, "object is not modifiable");
  bool now = current.GetBoolOr(a.type, rule.def == Def::kTrue);
  bool next = a.value.size() == 1 && a.value[0] == CK_TRUE;
  switch (rule.change) {
    case Change::kAlways: return OkStatus();
    case Change::kToTrue:
      if (now && !next) return Fail(Reason::kAttributeReadOnly, a.type, "cannot go from TRUE to FALSE");
      return OkStatus();
    case Change::kToFalse:
      if (!now && next) return Fail(Reason::kAttributeReadOnly, a.type, "cannot go from FALSE to TRUE");
      return OkStatus();
    case Change::kNever:
    case Change::kCopyOnly:
    default: return Fail(Reason::kAttributeReadOnly, a.type, "read-only attribute");
  }
}

// The capability attribute of each Use, indexed by Use (§4.8-§4.10).
constexpr AttributeType kUseAttributes[] = {CKA_SIGN, CKA_VERIFY, CKA_ENCRYPT, CKA_DECRYPT,
                                            CKA_WRAP, CKA_UNWRAP, CKA_DERIVE};

}  // namespace

std::optional<ValueKind> ValueKindOf(AttributeType type) {
  const Rule* rule = AnyRule(type);
  if (rule == nullptr) return std::nullopt;
  return rule->kind;
}

Result<AttributeSet> ApplyTemplate(ObjectClass cls, KeyType key_type, const AttributeSet& tmpl, Origin origin,
                                   MechanismType mechanism) {
  CV_RETURN_IF_ERROR(CheckShape(cls, key_type, tmpl, origin));
  Shape shape = ShapeOf(cls, key_type);
  for (const Attribute& a : tmpl.items()) CV_RETURN_IF_ERROR(CheckTemplateAttribute(a, shape, origin));
  CV_RETURN_IF_ERROR(CheckRequired(tmpl, shape, origin));
  CV_RETURN_IF_ERROR(CheckKeySizes(tmpl, shape));
  if (origin != Origin::kCopy) CV_RETURN_IF_ERROR(lifecycle::CheckInitialState(tmpl));
  AttributeSet obj = tmpl;
  obj.SetUlong(CKA_CLASS, cls);
  if ((shape.cls & kKeys) != 0) obj.SetUlong(CKA_KEY_TYPE, key_type);
  FillDefaults(&obj, shape);
  FillEarned(&obj, shape, origin, mechanism);
  if (shape.cls == kCert) CV_RETURN_IF_ERROR(FillCheckValue(&obj));
  return obj;
}

Status MergeEngineAttributes(AttributeSet* object, const AttributeSet& engine_attrs) {
  auto cls = object->GetUlong(CKA_CLASS);
  if (!cls.has_value()) return InternalError("MergeEngineAttributes: object without CKA_CLASS");
  Shape shape = ShapeOf(*object);
  for (const Attribute& a : engine_attrs.items()) {
    const Rule* rule = FindRule(a.type, shape);
    if (rule == nullptr || (rule->flags & kSensitive) != 0) continue;  // not stored as an attribute
    const Attribute* mine = object->Find(a.type);
    if (mine != nullptr && (rule->flags & kMaterial) == 0 && !SameValue(mine, &a)) {
      return Fail(Reason::kTemplateInconsistent, a.type, "template disagrees with the key");
    }
    object->Set(a.type, a.value);
  }
  for (const Rule& r : kRules) {
    if (IsSecretAttribute(*cls, r.type)) object->Erase(r.type);
  }
  return OkStatus();
}

Result<AttributeSet> CheckModify(const AttributeSet& current, const AttributeSet& changes, bool is_copy) {
  Shape shape = ShapeOf(current);
  if (shape.cls == 0) return InternalError("CheckModify: object without a supported CKA_CLASS");
  if (is_copy && !current.GetBoolOr(CKA_COPYABLE, true)) {
    // §5.7 C_CopyObject: CKR_ACTION_PROHIBITED when CKA_COPYABLE is FALSE.
    return Fail(Reason::kActionProhibited, CKA_COPYABLE, "object is not copyable");
  }
  for (const Attribute& a : changes.items()) {
    CV_ASSIGN_OR_RETURN(const Rule* rule, Lookup(a, shape, Reason::kAttributeTypeInvalid));
    CV_RETURN_IF_ERROR(CheckChange(a, *rule, current, is_copy));
  }
  AttributeSet merged = current;
  for (const Attribute& a : changes.items()) merged.Set(a.type, a.value);
  return merged;
}

Reason Readable(const AttributeSet& object, AttributeType type) {
  const Rule* rule = AnyRule(type) == nullptr ? nullptr : FindRule(type, ShapeOf(object));
  if (rule == nullptr) return Reason::kAttributeTypeInvalid;
  if ((rule->flags & kSensitive) == 0) return Reason::kNone;
  // §4.9: footnote 7 attributes "cannot be revealed if object has its
  // CKA_SENSITIVE attribute set to CK_TRUE or its CKA_EXTRACTABLE attribute set to CK_FALSE".
  bool sensitive = object.GetBool(CKA_SENSITIVE).value_or(true);
  bool extractable = object.GetBool(CKA_EXTRACTABLE).value_or(false);
  return (sensitive || !extractable) ? Reason::kAttributeSensitive : Reason::kNone;
}

bool IsSecretAttribute(ObjectClass cls, AttributeType type) {
  uint8_t bit = BitOf(kClassBits, cls);
  for (const Rule& r : kRules) {
    if (r.type == type && (r.classes & bit) != 0 && (r.flags & kSensitive) != 0) return true;
  }
  return false;
}

bool AllowsMechanism(const AttributeSet& key, MechanismType mech) {
  const Attribute* a = key.Find(CKA_ALLOWED_MECHANISMS);
  // Absent or empty: no restriction (an absent list reads back as empty).
  if (a == nullptr || a->value.empty()) return true;
  if (a->value.size() % sizeof(CK_ULONG) != 0) return false;  // malformed: fail closed
  for (size_t off = 0; off < a->value.size(); off += sizeof(CK_ULONG)) {
    CK_ULONG m = 0;
    std::memcpy(&m, a->value.data() + off, sizeof(m));
    if (m == mech) return true;
  }
  return false;
}

Status Permits(const AttributeSet& key, Use use) {
  size_t i = static_cast<size_t>(use);
  AttributeType type = i < std::size(kUseAttributes) ? kUseAttributes[i] : CKA_VENDOR_DEFINED;
  if (key.GetBool(type).value_or(false)) return OkStatus();
  return Fail(Reason::kKeyFunctionNotPermitted, type, "key usage not permitted");
}

bool NeedsSecurityOfficer(const AttributeSet& tmpl) { return tmpl.GetBool(CKA_TRUSTED).value_or(false); }

}  // namespace certvault::policy
