// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Attribute templates at the PKCS#11 boundary: CK_ATTRIBUTE arrays in, as
// AttributeSet, and C_GetAttributeValue results out, with the exact rules of
// PKCS#11 v3.0 §5.7 (C_GetAttributeValue).
#ifndef CERTVAULT_PKCS11_TEMPLATE_H_
#define CERTVAULT_PKCS11_TEMPLATE_H_

#include <cstddef>
#include <vector>

#include "src/base/result.h"
#include "src/base/status.h"
#include "src/core/backend.h"
#include "src/model/types.h"
#include "src/pkcs11/pkcs11_v3.h"

namespace certvault::pkcs11 {

// Bounds of a template the module accepts (anything larger is an attack or a bug).
inline constexpr size_t kMaxTemplateCount = 256;
inline constexpr size_t kMaxAttributeLen = 1 << 20;     // 1 MiB per value
inline constexpr size_t kMaxTemplateBytes = 4 << 20;    // 4 MiB per template

// ParseTemplate validates a caller's template and copies it into an
// AttributeSet. Errors:
//  kArgumentsBad: pTemplate NULL with ulCount > 0; pValue NULL with
//    ulValueLen > 0; more than kMaxTemplateCount entries.
//  kTemplateInconsistent: the same type twice.
//  kAttributeValueInvalid: a CK_BBOOL attribute not 1 byte or not 0/1, a CK_ULONG one not
//    sizeof(CK_ULONG), CKA_ALLOWED_MECHANISMS not a whole CK_MECHANISM_TYPE
//    array, or a value above kMaxAttributeLen / kMaxTemplateBytes in total.
//  kAttributeTypeInvalid: attribute-array attributes (CKA_WRAP_TEMPLATE, ...).
// The caller's memory is read only during the call; values are copied.
Result<AttributeSet> ParseTemplate(const CK_ATTRIBUTE* pTemplate, CK_ULONG ulCount);

// MakeRequests: the types of a C_GetAttributeValue template, one request each.
// kArgumentsBad for pTemplate NULL with ulCount > 0, or ulCount above
// kMaxTemplateCount.
Result<std::vector<AttributeRequest>> MakeRequests(const CK_ATTRIBUTE* pTemplate, CK_ULONG ulCount);

// FillTemplate writes `requests` (as filled by Backend::GetAttributeValue)
// into the caller's template, processing every entry (§5.7):
//  - sensitive or unknown attribute: ulValueLen = CK_UNAVAILABLE_INFORMATION;
//  - pValue NULL: ulValueLen = the value's length;
//  - ulValueLen too small: ulValueLen = CK_UNAVAILABLE_INFORMATION;
//  - otherwise the value is copied and ulValueLen set to its length.
// Returns CKR_ATTRIBUTE_SENSITIVE, else CKR_ATTRIBUTE_TYPE_INVALID, else
// CKR_BUFFER_TOO_SMALL, else CKR_OK (the spec lets any of the three be
// returned when several apply; this order matches Backend::GetAttributeValue).
// REQUIRES: requests.size() == ulCount and the types match the template.
CK_RV FillTemplate(const std::vector<AttributeRequest>& requests, CK_ATTRIBUTE* pTemplate, CK_ULONG ulCount);

// AttributeKind: how PKCS#11 types an attribute's value.
enum class AttributeKind { kBytes, kBool, kUlong, kMechanismArray, kAttributeArray };
AttributeKind KindOf(CK_ATTRIBUTE_TYPE type);

}  // namespace certvault::pkcs11

#endif  // CERTVAULT_PKCS11_TEMPLATE_H_
