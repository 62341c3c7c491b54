// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// WrappedKey (UpdateContent version 3, docs/formats/update-package.md
// "Wrapped keys"): a device private key wrapped to the vault's transport key,
// so that a CA token can export it without the clear key leaving the token:
//   Z   = ECDH(originator private key, transport public key)   (P-256)
//   KEK = ANSI X9.63 KDF with SHA-256 (Z, SharedInfo = kWrapSharedInfo), 32 bytes
//   wrapped = AES-256 key wrap with padding (RFC 5649) of the PKCS#8 DER
// which is PKCS#11's CKM_ECDH1_DERIVE with CKD_SHA256_KDF followed by
// C_WrapKey with CKM_AES_KEY_WRAP_KWP. Internal to src/provision.
#ifndef CERTVAULT_PROVISION_WRAPPED_KEY_H_
#define CERTVAULT_PROVISION_WRAPPED_KEY_H_

#include <span>

#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/crypto/ossl_ptr.h"
#include "src/provision/asn1.h"

namespace certvault::provision::internal {

inline constexpr char kWrapSharedInfo[] = "certvault wrapped key v1";

// WrapForTransport: `pkcs8` wrapped to `transport` (an EC P-256 public key)
// with a fresh ephemeral key (the software twin of the token operation).
Result<ossl::UniquePtr<CV_WRAPPED_KEY>> WrapForTransport(const SecretBytes& pkcs8, EVP_PKEY* transport);
// UnwrapWithTransport: the PKCS#8 DER; kEncryptedDataInvalid if the wrap's
// integrity check fails, kDataInvalid if the structure is malformed.
Result<SecretBytes> UnwrapWithTransport(const CV_WRAPPED_KEY& wrapped, EVP_PKEY* transport_key);

}  // namespace certvault::provision::internal

#endif  // CERTVAULT_PROVISION_WRAPPED_KEY_H_
