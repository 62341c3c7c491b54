// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Internals of src/selftest: the individual tests and the fault-injection
// hook. Not for use outside this directory and its tests.
#ifndef CERTVAULT_SELFTEST_INTERNAL_H_
#define CERTVAULT_SELFTEST_INTERNAL_H_

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "src/base/status.h"

namespace certvault::selftest::internal {

// FaultInjected: true when the test named `test` must fail. Release code
// links fault_off.cc (always false); only dedicated test binaries link
// fault_on.cc, which reads CERTVAULT_SELFTEST_FAULT (docs/design/selftest.md).
bool FaultInjected(std::string_view test);

// Hex: bytes of a hex literal (test vectors only; aborts nothing: bad digits
// become zero nibbles, which then fail the comparison).
std::vector<uint8_t> Hex(std::string_view hex);

// MaybeCorrupt: flips one bit of `data` when a fault is injected into `test`,
// so that the real comparison or verification is what fails.
void MaybeCorrupt(std::string_view test, std::span<uint8_t> data);

// Equal: kDeviceError naming `test` unless `got` == `want`.
Status Equal(std::string_view test, std::span<const uint8_t> got, std::span<const uint8_t> want);

// Failed: the kDeviceError of a failed test (no data in the message).
Status Failed(std::string_view test, std::string_view what);

// The known-answer tests (kat_*.cc) and the DRBG health check.
Status KatSha256();
Status KatSha384();
Status KatHmacSha256();
Status KatAesGcm();
Status KatArgon2id();
Status DrbgHealth();
Status KatEcdsaP256();
Status KatEcdsaP384();
Status KatEd25519();
Status KatRsaPss();
Status IntegrityCheck();

// VerifyManifestSignature: OK when `sig` is a signature of `manifest` by the
// PEM public key `public_key_pem` (Ed25519/Ed448: pure EdDSA; ECDSA and RSA
// PKCS#1 v1.5: over SHA-256). Otherwise the integrity test's kDeviceError.
Status VerifyManifestSignature(std::span<const uint8_t> manifest, std::span<const uint8_t> sig,
                               std::string_view public_key_pem);

// CheckInstalledBinary: the file `own`, installed under `prefix`, against
// prefix/share/certvault/SHA256SUMS (a file it does not list passes). With a
// non-empty `public_key_pem`, SHA256SUMS.sig must exist and verify first.
// Failures are the integrity test's kDeviceError.
Status CheckInstalledBinary(const std::filesystem::path& prefix, const std::filesystem::path& own,
                            std::string_view public_key_pem);

}  // namespace certvault::selftest::internal

#endif  // CERTVAULT_SELFTEST_INTERNAL_H_
