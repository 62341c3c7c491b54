// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault's vendor-defined PKCS#11 attributes (base spec §3.4: values at or
// above CKA_VENDOR_DEFINED are "permanently reserved for token vendors").
// The ones a PKCS#11 client may see are CKA_VENDOR_DEFINED | 0x004356xx
// ("CV"), documented in docs/design/attributes.md ("Key lifecycle"); their
// numbers never change. Bit 0x40000000 (CKF_ARRAY_ATTRIBUTE, §4.1) stays
// clear: clients and our own boundary read it as "an attribute array".
#ifndef CERTVAULT_MODEL_VENDOR_ATTRIBUTES_H_
#define CERTVAULT_MODEL_VENDOR_ATTRIBUTES_H_

#include <cstdint>

#include "src/model/pkcs11_constants.h"

namespace certvault {

// CKA_CV_KEY_STATE (CK_ULONG): the key's SP 800-57 Part 1 §7 state, one of
// the CKV_CV_STATE_* values below. Keys only. Readable; settable in a
// creation template (pre-activation or active only); changed afterwards only
// by a state transition (C_SetAttributeValue with this attribute alone, or
// with CKA_CV_KEY_STATE_REASON), never by other attribute writes.
inline constexpr uint64_t kCkaCvKeyState = CKA_VENDOR_DEFINED | 0x00435601UL;
// CKA_CV_KEY_STATE_TIME (CK_ULONG): when the key entered its state, in
// seconds since 1970-01-01T00:00:00Z. Read-only.
inline constexpr uint64_t kCkaCvKeyStateTime = CKA_VENDOR_DEFINED | 0x00435602UL;
// CKA_CV_KEY_STATE_REASON (UTF-8 bytes, at most 256): why the key entered
// its state; empty if none was given. Given only together with a transition.
inline constexpr uint64_t kCkaCvKeyStateReason = CKA_VENDOR_DEFINED | 0x00435603UL;

// CKV_CV_STATE_*: the values of CKA_CV_KEY_STATE. 0 is never a state.
inline constexpr uint64_t kCvStatePreActivation = 1;
inline constexpr uint64_t kCvStateActive = 2;
inline constexpr uint64_t kCvStateSuspended = 3;
inline constexpr uint64_t kCvStateDeactivated = 4;
inline constexpr uint64_t kCvStateCompromised = 5;
inline constexpr uint64_t kCvStateDestroyed = 6;

}  // namespace certvault

#endif  // CERTVAULT_MODEL_VENDOR_ATTRIBUTES_H_
