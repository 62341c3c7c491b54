// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The provider's algorithm tables, one per operation (query_operation).
// Every implementation carries the property "provider=certvault".
#ifndef CERTVAULT_PROVIDER_ALGORITHMS_H_
#define CERTVAULT_PROVIDER_ALGORITHMS_H_

#include <openssl/core.h>

namespace certvault::provider {

const OSSL_ALGORITHM* KeymgmtAlgorithms();
const OSSL_ALGORITHM* SignatureAlgorithms();
const OSSL_ALGORITHM* AsymCipherAlgorithms();
const OSSL_ALGORITHM* KeyexchAlgorithms();
const OSSL_ALGORITHM* DecoderAlgorithms();
// StoreAlgorithms: certvault:, plus pkcs11: when `claim_pkcs11`.
const OSSL_ALGORITHM* StoreAlgorithms(bool claim_pkcs11);

}  // namespace certvault::provider

#endif  // CERTVAULT_PROVIDER_ALGORITHMS_H_
