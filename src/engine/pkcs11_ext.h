// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// PKCS#11 v3.0 constants that third_party/pkcs11/pkcs11.h (p11-kit's) lacks.
// Values from PKCS#11 v3.0 "Cryptographic Token Interface Current Mechanisms
// Specification" §2 and the v3.0 pkcs11t.h. Private to src/engine.
#ifndef CERTVAULT_ENGINE_PKCS11_EXT_H_
#define CERTVAULT_ENGINE_PKCS11_EXT_H_

#include "third_party/pkcs11/pkcs11.h"

#ifndef CKK_EC_MONTGOMERY
#define CKK_EC_MONTGOMERY (0x41UL)
#endif
#ifndef CKM_EC_MONTGOMERY_KEY_PAIR_GEN
#define CKM_EC_MONTGOMERY_KEY_PAIR_GEN (0x1056UL)
#endif
#ifndef CKM_SHA3_256
#define CKM_SHA3_256 (0x2B0UL)
#define CKM_SHA3_256_HMAC (0x2B1UL)
#define CKM_SHA3_224 (0x2B5UL)
#define CKM_SHA3_224_HMAC (0x2B6UL)
#define CKM_SHA3_384 (0x2C0UL)
#define CKM_SHA3_384_HMAC (0x2C1UL)
#define CKM_SHA3_512 (0x2D0UL)
#define CKM_SHA3_512_HMAC (0x2D1UL)
#endif
// CKM_AES_KEY_WRAP_KWP (v3.0 §2.14.3): RFC 5649 / SP 800-38F KWP. The older
// code CKM_AES_KEY_WRAP_PAD (0x210A) names the same algorithm in practice; the
// engine accepts both.
#ifndef CKM_AES_KEY_WRAP_KWP
#define CKM_AES_KEY_WRAP_KWP (0x210BUL)
#endif

#endif  // CERTVAULT_ENGINE_PKCS11_EXT_H_
