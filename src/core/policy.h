// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault::policy: the PKCS#11 v3.0 object attribute rules (base spec §4)
// for the object classes certvault supports:
//   CKO_DATA, CKO_CERTIFICATE (CKC_X_509 only), CKO_PUBLIC_KEY, CKO_PRIVATE_KEY
//   (CKK_RSA, CKK_EC, CKK_EC_EDWARDS, CKK_EC_MONTGOMERY) and CKO_SECRET_KEY
//   (CKK_AES, CKK_GENERIC_SECRET, CKK_SHA256_HMAC, CKK_SHA384_HMAC, CKK_SHA512_HMAC).
//
// The rules live in one table of attribute descriptors in policy.cc (value
// kind, classes and key types it is valid for, origins that may set it,
// origins that require it, how it may change, whether it is sensitive, its
// default). Every function here is a pure function of its arguments: no I/O,
// no locks; all are thread-safe.
//
// Error vocabulary (Reason, mapped to CKR_* by src/pkcs11/ckrv.cc):
//   kAttributeTypeInvalid   attribute unknown to certvault, vendor-defined
//                           (>= CKA_VENDOR_DEFINED), or unsupported (e.g.
//                           CKA_WRAP_TEMPLATE); in CheckModify/Readable also an
//                           attribute not valid for the object's class/key type.
//   kAttributeValueInvalid  wrong length/encoding (CK_BBOOL not 0/1, CK_ULONG not
//                           8 bytes, bad CK_DATE, AES key not 16/24/32 bytes,
//                           unsupported CKA_CLASS/CKA_KEY_TYPE/CKA_CERTIFICATE_TYPE).
//   kAttributeReadOnly      attribute never settable by a caller (CKA_LOCAL,
//                           CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE,
//                           CKA_KEY_GEN_MECHANISM, CKA_UNIQUE_ID), or not
//                           modifiable (CheckModify).
//   kActionProhibited       CheckModify on an object with CKA_MODIFIABLE=FALSE,
//                           or a copy of one with CKA_COPYABLE=FALSE (§5.7).
//   kTemplateIncomplete     a required attribute is missing (§4.1.1 rule 4).
//   kTemplateInconsistent   contradictions (§4.1.1 rule 5): CKA_CLASS/CKA_KEY_TYPE
//                           disagree with the arguments, key type not of this
//                           class, an attribute valid in PKCS#11 but not for this
//                           class, or one this origin must not give (e.g.
//                           CKA_VALUE or CKA_MODULUS on generate).
//
// Object creation order (for the lead; all origins except kCopy):
//   1. obj = ApplyTemplate(cls, key_type, caller_template, origin, mechanism)
//      validates the caller's template and adds defaults + earned attributes.
//   2. The engine runs on `obj` (ImportKey / GenerateKey(Pair) / UnwrapKey /
//      DeriveKey) and returns NewKey{attrs, material}.
//   3. MergeEngineAttributes(&obj, new_key.attrs) adds the engine's attributes
//      (key material, CKA_MODULUS_BITS, CKA_VALUE_LEN, CKA_CHECK_VALUE, ...),
//      refuses contradictions, and erases from `obj` every IsSecretAttribute
//      (those now live in new_key.material).
//   4. The lead assigns CKA_UNIQUE_ID and stores the object.
// Copy order: merged = CheckModify(source, copy_template, /*is_copy=*/true), then
// ApplyTemplate(cls, key_type, merged, Origin::kCopy, 0) (re-validates and
// keeps the source's earned attributes), then the lead copies the material.
//
// Not handled here (the caller's job): login state and CKA_PRIVATE visibility,
// read-only sessions, whether the caller is the SO (see NeedsSecurityOfficer),
// whether a key may be copied at all beyond CKA_COPYABLE, and key sizes/curves
// (the engine returns kKeySizeRange / kCurveNotSupported).
#ifndef CERTVAULT_CORE_POLICY_H_
#define CERTVAULT_CORE_POLICY_H_

#include <cstdint>
#include <optional>

#include "src/base/result.h"
#include "src/base/status.h"
#include "src/model/types.h"

namespace certvault::policy {

// PKCS#11 v3.0 constants (src/model/pkcs11_constants.h), typed.
inline constexpr KeyType kCkkEcMontgomery = CKK_EC_MONTGOMERY;
inline constexpr AttributeType kCkaUniqueId = CKA_UNIQUE_ID;
inline constexpr MechanismType kCkUnavailableInformation = ~uint64_t{0};  // CK_UNAVAILABLE_INFORMATION

// Origin: how a new object comes to exist.
enum class Origin { kCreate, kGenerate, kUnwrap, kDerive, kCopy };

// ValueKind: how an attribute's value is encoded.
enum class ValueKind {
  kBool,        // CK_BBOOL: exactly 1 byte, 0 or 1
  kUlong,       // CK_ULONG: exactly 8 bytes (LP64)
  kBytes,       // a byte string (key material attributes must not be empty)
  kBigInt,      // big-endian unsigned integer: at least 1 byte
  kDate,        // CK_DATE: empty, or 8 ASCII digits YYYYMMDD
  kUlongArray,  // array of CK_ULONG: a multiple of 8 bytes
};

// ValueKindOf: the kind of a supported attribute, or nullopt if certvault does
// not support `type` (the boundary uses it to convert CK_ULONG/CK_BBOOL values).
std::optional<ValueKind> ValueKindOf(AttributeType type);

// ApplyTemplate validates a caller template `tmpl` for a new object of class
// `cls` (and `key_type` for key classes; ignored otherwise) and returns the
// complete attribute set to store (before MergeEngineAttributes). It fills the
// defaults: CKA_TOKEN=FALSE, CKA_PRIVATE (TRUE for private/secret keys, else
// FALSE), CKA_MODIFIABLE/COPYABLE/DESTROYABLE=TRUE, empty CKA_LABEL/CKA_ID/
// dates, capability flags per class and key type (only the key type's natural
// uses are TRUE, see docs/design/attributes.md), CKA_SENSITIVE=TRUE and
// CKA_EXTRACTABLE=FALSE for private/secret keys, certificate CKA_TRUSTED=FALSE,
// CKA_CERTIFICATE_CATEGORY=0, CKA_CHECK_VALUE (first 3 bytes of SHA-1 of
// CKA_VALUE; a caller value must match). Earned attributes for keys:
// CKA_LOCAL (TRUE only for kGenerate), CKA_KEY_GEN_MECHANISM (`mechanism` for
// kGenerate, else CK_UNAVAILABLE_INFORMATION), CKA_ALWAYS_SENSITIVE (=
// CKA_SENSITIVE for kGenerate, else FALSE), CKA_NEVER_EXTRACTABLE (=
// !CKA_EXTRACTABLE for kGenerate, else FALSE); kCopy keeps the values found in
// `tmpl` (the merged source set), which may then also contain key material.
// CKA_CLASS and CKA_KEY_TYPE are always present in the result.
// Errors: see the vocabulary above. kCreate requires CKA_CLASS (and
// CKA_KEY_TYPE for keys) in `tmpl`; kUnwrap requires CKA_KEY_TYPE;
// generate templates carry only generation parameters (CKA_MODULUS_BITS,
// CKA_PUBLIC_EXPONENT, CKA_EC_PARAMS on the public template, CKA_VALUE_LEN for
// secret keys), never key material.
Result<AttributeSet> ApplyTemplate(ObjectClass cls, KeyType key_type, const AttributeSet& tmpl, Origin origin,
                                   MechanismType mechanism);

// MergeEngineAttributes adds the attributes the engine computed for a new key
// (step 3 above) to `object`, which ApplyTemplate produced. An engine attribute
// already in `object` with a different value gives kTemplateInconsistent (e.g.
// the caller's CKA_VALUE_LEN or CKA_PUBLIC_KEY_INFO disagrees with the key);
// engine attributes not valid for the object's class/key type are ignored.
// Afterwards every attribute with IsSecretAttribute(cls, type) is erased from
// `object`. REQUIRES: object != nullptr and contains CKA_CLASS.
Status MergeEngineAttributes(AttributeSet* object, const AttributeSet& engine_attrs);

// CheckModify checks `changes` against the object's `current` attributes for
// C_SetAttributeValue (is_copy=false, §5.7) or C_CopyObject (is_copy=true) and
// returns the merged set. Rules (§4.4-§4.10, footnotes 8, 11, 12):
//  - unknown/vendor/not-valid-for-class types: kAttributeTypeInvalid; bad
//    values: kAttributeValueInvalid;
//  - is_copy and CKA_COPYABLE=FALSE: kActionProhibited (no copy at all);
//  - CKA_MODIFIABLE=FALSE: kActionProhibited for every change except, in a
//    copy, CKA_TOKEN/CKA_PRIVATE/CKA_MODIFIABLE/CKA_DESTROYABLE (read-only
//    attributes stay kAttributeReadOnly);
//  - CKA_TOKEN, CKA_PRIVATE, CKA_MODIFIABLE, CKA_DESTROYABLE: copy only;
//  - modifiable attributes (CKA_LABEL, CKA_ID, capability flags, dates,
//    CKA_SUBJECT of keys, CKA_TRUSTED, certificate CKA_ISSUER/SERIAL_NUMBER,
//    data object values): allowed;
//  - one-way: CKA_SENSITIVE only FALSE->TRUE, CKA_EXTRACTABLE only TRUE->FALSE,
//    CKA_WRAP_WITH_TRUSTED only FALSE->TRUE, CKA_COPYABLE only TRUE->FALSE
//    (same-value writes are accepted); the other direction is kAttributeReadOnly;
//  - everything else (CKA_CLASS, CKA_KEY_TYPE, key material, earned attributes,
//    CKA_ALLOWED_MECHANISMS, certificate CKA_VALUE/CKA_SUBJECT...): kAttributeReadOnly.
Result<AttributeSet> CheckModify(const AttributeSet& current, const AttributeSet& changes, bool is_copy);

// Readable decides whether C_GetAttributeValue may return `type` of `object`:
// kNone if it may (the caller still reports kAttributeTypeInvalid when the
// object has no value and none can be computed, e.g. private components come
// from engine::PrivateComponent), kAttributeSensitive for a sensitive value
// (private key CKA_VALUE/CKA_PRIVATE_EXPONENT/primes/exponents/coefficient,
// secret key CKA_VALUE) when CKA_SENSITIVE is TRUE or CKA_EXTRACTABLE is FALSE
// (absent counts as sensitive/unextractable: fail closed), and
// kAttributeTypeInvalid if `type` is not valid for the object's class/key type.
Reason Readable(const AttributeSet& object, AttributeType type);

// IsSecretAttribute: true if `type` is secret key material of class `cls`,
// stored only encrypted at rest (CKA_VALUE of private and secret keys, and the
// RSA private components CKA_PRIVATE_EXPONENT, CKA_PRIME_1/2, CKA_EXPONENT_1/2,
// CKA_COEFFICIENT of private keys).
bool IsSecretAttribute(ObjectClass cls, AttributeType type);

// AllowsMechanism enforces CKA_ALLOWED_MECHANISMS (array of CK_ULONG): true if
// the attribute is absent, empty (an absent one reads back as empty, so a
// client copying attributes must get the same key) or lists `mech`; false if
// it lists other mechanisms only, or is malformed (length not a multiple of 8).
bool AllowsMechanism(const AttributeSet& key, MechanismType mech);

// Use: what an operation does with a key.
enum class Use { kSign, kVerify, kEncrypt, kDecrypt, kWrap, kUnwrap, kDerive };

// Permits: OK if the key's capability attribute for `use` (CKA_SIGN, CKA_VERIFY,
// CKA_ENCRYPT, CKA_DECRYPT, CKA_WRAP, CKA_UNWRAP, CKA_DERIVE) is TRUE;
// kKeyFunctionNotPermitted if it is FALSE, absent or malformed.
Status Permits(const AttributeSet& key, Use use);

// NeedsSecurityOfficer: true if `tmpl` sets CKA_TRUSTED to TRUE, which PKCS#11
// §4.6/§4.8/§4.10 (footnote 10) allow only to the SO. The caller checks the
// session's user and refuses otherwise (CKR_ATTRIBUTE_READ_ONLY).
bool NeedsSecurityOfficer(const AttributeSet& tmpl);

}  // namespace certvault::policy

#endif  // CERTVAULT_CORE_POLICY_H_
