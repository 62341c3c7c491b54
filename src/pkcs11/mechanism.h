// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// ParseMechanism: CK_MECHANISM -> certvault::Mechanism at the boundary.
#ifndef CERTVAULT_PKCS11_MECHANISM_H_
#define CERTVAULT_PKCS11_MECHANISM_H_

#include <cstddef>

#include "src/base/result.h"
#include "src/model/types.h"
#include "src/pkcs11/pkcs11_v3.h"

namespace certvault::pkcs11 {

// Largest opaque parameter, GCM AAD or OAEP label accepted.
inline constexpr size_t kMaxMechanismParamLen = 64 * 1024;

// ParseMechanism copies the mechanism and parses its parameter by type:
//  RSA-PSS family -> RsaPssParams (CK_RSA_PKCS_PSS_PARAMS, required);
//  CKM_RSA_PKCS_OAEP -> RsaOaepParams (CK_RSA_PKCS_OAEP_PARAMS, required);
//  CKM_AES_GCM -> GcmParams (CK_GCM_PARAMS, required);
//  CKM_ECDH1_DERIVE / CKM_ECDH1_COFACTOR_DERIVE -> Ecdh1DeriveParams;
//  CKM_EDDSA -> EddsaParams (CK_EDDSA_PARAMS, optional);
//  CKM_AES_CBC / CKM_AES_CBC_PAD -> Bytes (a 16-byte IV);
//  CKM_AES_CTR -> AesCtrParams (CK_AES_CTR_PARAMS, required);
//  anything else: monostate without a parameter, else the bytes, opaque.
// Errors: kArgumentsBad if pMechanism is NULL; kMechanismParamInvalid for a
// wrong parameter size, a NULL pointer with a non-zero length inside the
// parameter, or lengths above kMaxMechanismParamLen. Whether the mechanism
// itself is supported (kMechanismInvalid) is the backend's decision.
Result<Mechanism> ParseMechanism(const CK_MECHANISM* pMechanism);

}  // namespace certvault::pkcs11

#endif  // CERTVAULT_PKCS11_MECHANISM_H_
