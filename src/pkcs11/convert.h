// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Conversions between the PKCS#11 C types (CK_ULONG, CK_BYTE_PTR, ...) and
// certvault's C++ types, with the argument checks of PKCS#11 §5.1 done once
// here: a NULL pointer with a non-zero length is CKR_ARGUMENTS_BAD.
//
// CK_ULONG appears only in src/pkcs11. certvault targets LP64, where CK_ULONG,
// size_t and uint64_t have the same width; the narrowing helpers still check.
#ifndef CERTVAULT_PKCS11_CONVERT_H_
#define CERTVAULT_PKCS11_CONVERT_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/base/status.h"
#include "src/model/types.h"
#include "src/pkcs11/pkcs11_v3.h"

namespace certvault::pkcs11 {

static_assert(sizeof(CK_ULONG) == sizeof(size_t), "certvault targets LP64");
static_assert(sizeof(CK_ULONG) == sizeof(uint64_t), "certvault targets LP64");

// Longest PIN the module accepts; longer is CKR_PIN_LEN_RANGE.
inline constexpr size_t kMaxPinLen = 1024;

// ToSize: checked CK_ULONG -> size_t (kArgumentsBad if it cannot fit).
Result<size_t> ToSize(CK_ULONG value);

// InputSpan: (p, len) as a span; kArgumentsBad if p is NULL and len > 0.
Result<std::span<const uint8_t>> InputSpan(const CK_BYTE* p, CK_ULONG len);
// OutputSpan: like InputSpan, writable (C_GenerateRandom).
Result<std::span<uint8_t>> OutputSpan(CK_BYTE* p, CK_ULONG len);

// PinFrom: the PIN bytes as SecretBytes. kArgumentsBad for NULL with len > 0,
// kPinLenRange above kMaxPinLen. A NULL PIN of length 0 is the empty PIN
// (certvault has no protected authentication path).
Result<SecretBytes> PinFrom(const CK_UTF8CHAR* pPin, CK_ULONG ulPinLen);

// LabelFrom: a 32-byte blank-padded token label (C_InitToken) without the
// padding. kArgumentsBad if pLabel is NULL.
Result<std::string> LabelFrom(const CK_UTF8CHAR* pLabel);

// ToUserType: CKU_SO/CKU_USER/CKU_CONTEXT_SPECIFIC, else kUserTypeInvalid.
Result<UserType> ToUserType(CK_USER_TYPE userType);

// WithOutBuf: runs `fn(OutBuf)` on the caller's (pOut, pulOutLen) pair with the
// §5.2 length conventions; kArgumentsBad if pulOutLen is NULL. *pulOutLen is
// written when fn succeeds or returns kBufferTooSmall, and left alone otherwise.
template <typename Fn>
Status WithOutBuf(CK_BYTE* pOut, CK_ULONG* pulOutLen, Fn&& fn) {
  if (pulOutLen == nullptr) return Status(Reason::kArgumentsBad, "output length pointer is NULL");
  size_t len = static_cast<size_t>(*pulOutLen);
  Status status = fn(OutBuf{pOut, &len});
  if (status.ok() || status.reason() == Reason::kBufferTooSmall) *pulOutLen = static_cast<CK_ULONG>(len);
  return status;
}

// FillUlongList: the §5.2 list convention (C_GetSlotList, C_GetMechanismList):
// pList NULL -> *pulCount = size, OK; *pulCount too small -> *pulCount = size,
// kBufferTooSmall; otherwise copies. kArgumentsBad if pulCount is NULL.
Status FillUlongList(const std::vector<uint64_t>& values, CK_ULONG* pList, CK_ULONG* pulCount);

}  // namespace certvault::pkcs11

#endif  // CERTVAULT_PKCS11_CONVERT_H_
