// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// PairwiseConsistencyTest: the pairwise-consistency test (PCT) of FIPS 140-3
// (ISO/IEC 19790 §7.10.3.3 / IG 10.3.A) run on every key pair that certvault
// generates or imports.
#ifndef CERTVAULT_SELFTEST_PCT_H_
#define CERTVAULT_SELFTEST_PCT_H_

#include <openssl/evp.h>

#include "src/base/status.h"

namespace certvault::selftest {

// PairwiseConsistencyTest: signs a fixed message with the private half of
// `key` and verifies it with the public half (RSA: PKCS#1 v1.5 with SHA-256,
// EC: ECDSA with SHA-256, EdDSA: pure). Key-agreement-only keys (X25519, X448)
// are checked by recomputing the public key from the private one. On failure
// the process enters the error state and the result is ErrorStateStatus()
// (kDeviceError); also kDeviceError, without running, when already in it.
// `key` must hold a private key; it is not retained. Thread-safe.
Status PairwiseConsistencyTest(EVP_PKEY* key);

}  // namespace certvault::selftest

#endif  // CERTVAULT_SELFTEST_PCT_H_
