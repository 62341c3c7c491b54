// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/pkcs11/template.h"

#include <cstring>
#include <span>

#include "src/base/status_macros.h"
#include "src/model/vendor_attributes.h"

namespace certvault::pkcs11 {
namespace {

Status CheckTemplatePointer(const CK_ATTRIBUTE* pTemplate, CK_ULONG ulCount) {
  if (ulCount > 0 && pTemplate == nullptr) return Status(Reason::kArgumentsBad, "template is NULL");
  if (ulCount > kMaxTemplateCount) return Status(Reason::kArgumentsBad, "template too long");
  return OkStatus();
}

// CheckValueShape: the value length the attribute's C type demands.
Status CheckValueShape(CK_ATTRIBUTE_TYPE type, CK_ULONG len) {
  switch (KindOf(type)) {
    case AttributeKind::kBool:
      if (len != sizeof(CK_BBOOL)) return Status(Reason::kAttributeValueInvalid, "CK_BBOOL must be 1 byte");
      return OkStatus();
    case AttributeKind::kUlong:
      if (len != sizeof(CK_ULONG)) return Status(Reason::kAttributeValueInvalid, "CK_ULONG size mismatch");
      return OkStatus();
    case AttributeKind::kMechanismArray:
      if (len % sizeof(CK_MECHANISM_TYPE) != 0) {
        return Status(Reason::kAttributeValueInvalid, "CKA_ALLOWED_MECHANISMS length");
      }
      return OkStatus();
    case AttributeKind::kAttributeArray:
      return Status(Reason::kAttributeTypeInvalid, "attribute-array attributes are not supported");
    case AttributeKind::kBytes:
      return OkStatus();
    default:
      return Status(Reason::kAttributeTypeInvalid);
  }
}

Status AddAttribute(const CK_ATTRIBUTE& attr, size_t* total, AttributeSet* out) {
  if (attr.pValue == nullptr && attr.ulValueLen > 0) return Status(Reason::kArgumentsBad, "pValue is NULL");
  if (attr.ulValueLen > kMaxAttributeLen || *total + attr.ulValueLen > kMaxTemplateBytes) {
    return Status(Reason::kAttributeValueInvalid, "attribute value too large");
  }
  CV_RETURN_IF_ERROR(CheckValueShape(attr.type, attr.ulValueLen));
  if (out->Has(attr.type)) return Status(Reason::kTemplateInconsistent, "attribute given twice");
  *total += attr.ulValueLen;
  if (KindOf(attr.type) == AttributeKind::kBool) {
    CK_BBOOL b = *static_cast<const CK_BBOOL*>(attr.pValue);
    if (b != CK_TRUE && b != CK_FALSE) return Status(Reason::kAttributeValueInvalid, "CK_BBOOL must be 0 or 1");
  }
  out->Set(attr.type, std::span<const uint8_t>(static_cast<const uint8_t*>(attr.pValue), attr.ulValueLen));
  return OkStatus();
}

}  // namespace

AttributeKind KindOf(CK_ATTRIBUTE_TYPE type) {
  switch (type) {
    case CKA_TOKEN: case CKA_PRIVATE: case CKA_MODIFIABLE: case CKA_COPYABLE: case CKA_DESTROYABLE:
    case CKA_TRUSTED: case CKA_SENSITIVE: case CKA_ENCRYPT: case CKA_DECRYPT: case CKA_WRAP:
    case CKA_UNWRAP: case CKA_SIGN: case CKA_SIGN_RECOVER: case CKA_VERIFY: case CKA_VERIFY_RECOVER:
    case CKA_DERIVE: case CKA_EXTRACTABLE: case CKA_LOCAL: case CKA_NEVER_EXTRACTABLE:
    case CKA_ALWAYS_SENSITIVE: case CKA_WRAP_WITH_TRUSTED: case CKA_ALWAYS_AUTHENTICATE:
    case CKA_RESET_ON_INIT: case CKA_HAS_RESET:
      return AttributeKind::kBool;
    case CKA_CLASS: case CKA_KEY_TYPE: case CKA_CERTIFICATE_TYPE: case CKA_CERTIFICATE_CATEGORY:
    case CKA_JAVA_MIDP_SECURITY_DOMAIN: case CKA_MODULUS_BITS: case CKA_VALUE_BITS: case CKA_VALUE_LEN:
    case CKA_KEY_GEN_MECHANISM: case CKA_PRIME_BITS: case CKA_SUB_PRIME_BITS: case CKA_HW_FEATURE_TYPE:
    case CKA_MECHANISM_TYPE: case CKA_NAME_HASH_ALGORITHM:
    case kCkaCvKeyState: case kCkaCvKeyStateTime:
      return AttributeKind::kUlong;
    case CKA_ALLOWED_MECHANISMS:
      return AttributeKind::kMechanismArray;
    default:
      // PKCS#11 §4.1: CKF_ARRAY_ATTRIBUTE marks values that are CK_ATTRIBUTE arrays.
      return (type & CKF_ARRAY_ATTRIBUTE) != 0 ? AttributeKind::kAttributeArray : AttributeKind::kBytes;
  }
}

Result<AttributeSet> ParseTemplate(const CK_ATTRIBUTE* pTemplate, CK_ULONG ulCount) {
  CV_RETURN_IF_ERROR(CheckTemplatePointer(pTemplate, ulCount));
  AttributeSet out;
  size_t total = 0;
  for (CK_ULONG i = 0; i < ulCount; ++i) {
    CV_RETURN_IF_ERROR(AddAttribute(pTemplate[i], &total, &out));
  }
  return out;
}

Result<std::vector<AttributeRequest>> MakeRequests(const CK_ATTRIBUTE* pTemplate, CK_ULONG ulCount) {
  CV_RETURN_IF_ERROR(CheckTemplatePointer(pTemplate, ulCount));
  std::vector<AttributeRequest> requests(ulCount);
  for (CK_ULONG i = 0; i < ulCount; ++i) requests[i].type = pTemplate[i].type;
  return requests;
}

CK_RV FillTemplate(const std::vector<AttributeRequest>& requests, CK_ATTRIBUTE* pTemplate, CK_ULONG ulCount) {
  bool sensitive = false;
  bool invalid = false;
  bool too_small = false;
  for (CK_ULONG i = 0; i < ulCount && i < requests.size(); ++i) {
    const AttributeRequest& req = requests[i];
    CK_ATTRIBUTE& attr = pTemplate[i];
    if (req.status != Reason::kNone) {
      // §5.7 cases 1 and 2: sensitive/unextractable, or not an attribute of the object.
      sensitive |= req.status == Reason::kAttributeSensitive;
      invalid |= req.status != Reason::kAttributeSensitive;
      attr.ulValueLen = CK_UNAVAILABLE_INFORMATION;
    } else if (attr.pValue == nullptr) {
      attr.ulValueLen = static_cast<CK_ULONG>(req.value.size());  // case 3: length query
    } else if (attr.ulValueLen < req.value.size()) {
      too_small = true;  // case 5
      attr.ulValueLen = CK_UNAVAILABLE_INFORMATION;
    } else {
      if (!req.value.empty()) std::memcpy(attr.pValue, req.value.data(), req.value.size());  // case 4
      attr.ulValueLen = static_cast<CK_ULONG>(req.value.size());
    }
  }
  if (sensitive) return CKR_ATTRIBUTE_SENSITIVE;
  if (invalid) return CKR_ATTRIBUTE_TYPE_INVALID;
  return too_small ? CKR_BUFFER_TOO_SMALL : CKR_OK;
}

}  // namespace certvault::pkcs11
