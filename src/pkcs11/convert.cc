// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/pkcs11/convert.h"

#include <algorithm>

#include "src/base/status_macros.h"

namespace certvault::pkcs11 {

Result<size_t> ToSize(CK_ULONG value) {
  if (value > std::numeric_limits<size_t>::max()) return Status(Reason::kArgumentsBad, "length out of range");
  return static_cast<size_t>(value);
}

Result<std::span<const uint8_t>> InputSpan(const CK_BYTE* p, CK_ULONG len) {
  if (len == 0) return std::span<const uint8_t>();
  if (p == nullptr) return Status(Reason::kArgumentsBad, "NULL buffer with non-zero length");
  CV_ASSIGN_OR_RETURN(size_t n, ToSize(len));
  return std::span<const uint8_t>(p, n);
}

Result<std::span<uint8_t>> OutputSpan(CK_BYTE* p, CK_ULONG len) {
  if (len == 0) return std::span<uint8_t>();
  if (p == nullptr) return Status(Reason::kArgumentsBad, "NULL buffer with non-zero length");
  CV_ASSIGN_OR_RETURN(size_t n, ToSize(len));
  return std::span<uint8_t>(p, n);
}

Result<SecretBytes> PinFrom(const CK_UTF8CHAR* pPin, CK_ULONG ulPinLen) {
  if (ulPinLen > kMaxPinLen) return Status(Reason::kPinLenRange, "PIN too long");
  CV_ASSIGN_OR_RETURN(std::span<const uint8_t> pin, InputSpan(pPin, ulPinLen));
  return SecretBytes(pin, SecretAccess::Get());
}

Result<std::string> LabelFrom(const CK_UTF8CHAR* pLabel) {
  if (pLabel == nullptr) return Status(Reason::kArgumentsBad, "label is NULL");
  // PKCS#11 §5.6 C_InitToken: "pLabel points to the 32-byte label of the
  // token (which MUST be padded with blank characters, and which MUST NOT be
  // null-terminated)".
  std::string label(reinterpret_cast<const char*>(pLabel), 32);
  size_t end = label.find_last_not_of(' ');
  label.resize(end == std::string::npos ? 0 : end + 1);
  return label;
}

Result<UserType> ToUserType(CK_USER_TYPE userType) {
  switch (userType) {
    case CKU_SO: return UserType::kSo;
    case CKU_USER: return UserType::kUser;
    case CKU_CONTEXT_SPECIFIC: return UserType::kContextSpecific;
    default: return Status(Reason::kUserTypeInvalid, "unknown user type");
  }
}

Status FillUlongList(const std::vector<uint64_t>& values, CK_ULONG* pList, CK_ULONG* pulCount) {
  if (pulCount == nullptr) return Status(Reason::kArgumentsBad, "count pointer is NULL");
  CK_ULONG capacity = *pulCount;
  *pulCount = static_cast<CK_ULONG>(values.size());
  if (pList == nullptr) return OkStatus();
  if (capacity < values.size()) return Status(Reason::kBufferTooSmall);
  std::copy(values.begin(), values.end(), pList);
  return OkStatus();
}

}  // namespace certvault::pkcs11
