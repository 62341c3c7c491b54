// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// pkcs11_constants.h: the one place where the PKCS#11 v3.0 constants certvault
// uses are added to the vendored v2.40 header (third_party/pkcs11/pkcs11.h,
// p11-kit's). Values from the OASIS PKCS#11 v3.0 Base and Current Mechanisms
// specifications (pkcs11t.h v3.0). Each is guarded, so that a newer pkcs11.h
// can replace this file. Every layer gets it through src/model/types.h;
// src/pkcs11/pkcs11_v3.h adds the v3.0 types and functions.
#ifndef CERTVAULT_MODEL_PKCS11_CONSTANTS_H_
#define CERTVAULT_MODEL_PKCS11_CONSTANTS_H_

#include "third_party/pkcs11/pkcs11.h"

#ifndef CKR_TOKEN_RESOURCE_EXCEEDED
#define CKR_TOKEN_RESOURCE_EXCEEDED (0x201UL)
#endif
#ifndef CKR_OPERATION_CANCEL_FAILED
#define CKR_OPERATION_CANCEL_FAILED (0x202UL)
#endif
#ifndef CKK_EC_MONTGOMERY
#define CKK_EC_MONTGOMERY (0x41UL)
#endif
#ifndef CKM_EC_MONTGOMERY_KEY_PAIR_GEN
#define CKM_EC_MONTGOMERY_KEY_PAIR_GEN (0x1056UL)
#endif
#ifndef CKM_SHA3_256
#define CKM_SHA3_256 (0x2B0UL)
#define CKM_SHA3_224 (0x2B5UL)
#define CKM_SHA3_384 (0x2C0UL)
#define CKM_SHA3_512 (0x2D0UL)
#endif
#ifndef CKM_SHA3_256_RSA_PKCS
#define CKM_SHA3_256_RSA_PKCS (0x60UL)
#define CKM_SHA3_384_RSA_PKCS (0x61UL)
#define CKM_SHA3_512_RSA_PKCS (0x62UL)
#define CKM_SHA3_256_RSA_PKCS_PSS (0x63UL)
#define CKM_SHA3_384_RSA_PKCS_PSS (0x64UL)
#define CKM_SHA3_512_RSA_PKCS_PSS (0x65UL)
#define CKM_SHA3_224_RSA_PKCS (0x66UL)
#define CKM_SHA3_224_RSA_PKCS_PSS (0x67UL)
#endif
#ifndef CKM_ECDSA_SHA3_224
#define CKM_ECDSA_SHA3_224 (0x1047UL)
#define CKM_ECDSA_SHA3_256 (0x1048UL)
#define CKM_ECDSA_SHA3_384 (0x1049UL)
#define CKM_ECDSA_SHA3_512 (0x104AUL)
#endif
#ifndef CKA_UNIQUE_ID
#define CKA_UNIQUE_ID (0x4UL)
#endif
#ifndef CKF_END_OF_MESSAGE
#define CKF_END_OF_MESSAGE (0x1UL)
#endif
#ifndef CKF_INTERFACE_FORK_SAFE
#define CKF_INTERFACE_FORK_SAFE (0x1UL)
#endif
#ifndef CKM_SHA3_256_HMAC
#define CKM_SHA3_256_HMAC (0x2B1UL)
#define CKM_SHA3_224_HMAC (0x2B6UL)
#define CKM_SHA3_384_HMAC (0x2C1UL)
#define CKM_SHA3_512_HMAC (0x2D1UL)
#endif
// CKM_AES_KEY_WRAP_KWP (v3.0 Current Mechanisms §2.14.3): RFC 5649 / SP 800-38F
// KWP. The older code CKM_AES_KEY_WRAP_PAD (0x210A) names the same algorithm in
// practice; the engine accepts both.
#ifndef CKM_AES_KEY_WRAP_KWP
#define CKM_AES_KEY_WRAP_KWP (0x210BUL)
#endif

#endif  // CERTVAULT_MODEL_PKCS11_CONSTANTS_H_
