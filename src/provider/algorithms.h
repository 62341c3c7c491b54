// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The provider's algorithm tables, one per operation (query_operation).
// Every implementation carries the property "provider=certvault".
#ifndef CERTVAULT_PROVIDER_ALGORITHMS_H_
#define CERTVAULT_PROVIDER_ALGORITHMS_H_

#include <openssl/core.h>

#include "src/provider/key.h"

namespace certvault::provider {

// Provider-private operation names. KEYMGMT's query_operation_name answers
// these for vault keys; each is registered, beside the standard name
// ("ECDSA", "RSA", ...), only by this provider (docs/design/provider.md).
inline constexpr const char* kVaultEcdsa = "CERTVAULT-ECDSA";
inline constexpr const char* kVaultRsaSig = "CERTVAULT-RSA-SIG";
inline constexpr const char* kVaultEd25519 = "CERTVAULT-ED25519";
inline constexpr const char* kVaultEd448 = "CERTVAULT-ED448";
inline constexpr const char* kVaultEcdh = "CERTVAULT-ECDH";
inline constexpr const char* kVaultX25519 = "CERTVAULT-X25519";
inline constexpr const char* kVaultX448 = "CERTVAULT-X448";
inline constexpr const char* kVaultRsaCipher = "CERTVAULT-RSA-ENC";

constexpr const char* SignatureName(KeyAlgo a) {
  switch (a) {
    case KeyAlgo::kEc:
      return kVaultEcdsa;
    case KeyAlgo::kRsa:
      return kVaultRsaSig;
    case KeyAlgo::kEd25519:
      return kVaultEd25519;
    case KeyAlgo::kEd448:
      return kVaultEd448;
    default:
      return nullptr;
  }
}
constexpr const char* KeyexchName(KeyAlgo a) {
  switch (a) {
    case KeyAlgo::kEc:
      return kVaultEcdh;
    case KeyAlgo::kX25519:
      return kVaultX25519;
    case KeyAlgo::kX448:
      return kVaultX448;
    default:
      return nullptr;
  }
}

const OSSL_ALGORITHM* KeymgmtAlgorithms();
const OSSL_ALGORITHM* SignatureAlgorithms();
const OSSL_ALGORITHM* AsymCipherAlgorithms();
const OSSL_ALGORITHM* KeyexchAlgorithms();
const OSSL_ALGORITHM* DecoderAlgorithms();
// StoreAlgorithms: certvault:, plus pkcs11: when `claim_pkcs11`.
const OSSL_ALGORITHM* StoreAlgorithms(bool claim_pkcs11);

}  // namespace certvault::provider

#endif  // CERTVAULT_PROVIDER_ALGORITHMS_H_
