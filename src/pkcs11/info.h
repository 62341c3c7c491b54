// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Info structures: certvault's SlotInfo/TokenInfo/MechanismInfo/SessionInfo
// into the CK_* structs. Fixed-length text fields are UTF-8, padded with
// blanks and never NUL-terminated (PKCS#11 §3.2); longer text is truncated
// on a UTF-8 character boundary.
#ifndef CERTVAULT_PKCS11_INFO_H_
#define CERTVAULT_PKCS11_INFO_H_

#include <cstddef>
#include <string_view>

#include "src/model/types.h"
#include "src/pkcs11/pkcs11_v3.h"

namespace certvault::pkcs11 {

// PadField writes `text` into `out[0..size)`, blank-padded, truncated so that
// no UTF-8 sequence is cut.
void PadField(std::string_view text, CK_UTF8CHAR* out, size_t size);

// FillInfo: CK_INFO of the module: cryptokiVersion 3.0, manufacturer
// "certvault", the library description and the project version.
void FillInfo(CK_INFO* out);
void FillSlotInfo(const SlotInfo& in, CK_SLOT_INFO* out);
void FillTokenInfo(const TokenInfo& in, CK_TOKEN_INFO* out);
void FillMechanismInfo(const MechanismInfo& in, CK_MECHANISM_INFO* out);
void FillSessionInfo(const SessionInfo& in, CK_SESSION_INFO* out);

}  // namespace certvault::pkcs11

#endif  // CERTVAULT_PKCS11_INFO_H_
