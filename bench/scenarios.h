// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The benchmark scenarios. Each returns a measurement or an error Status;
// none asserts anything about timing. Every loop is bounded by a duration or
// an object count, so a slow module makes the run slower, never endless.
#ifndef CERTVAULT_BENCH_SCENARIOS_H_
#define CERTVAULT_BENCH_SCENARIOS_H_

#include <cstddef>
#include <string>

#include "bench/p11_loader.h"
#include "src/base/result.h"

namespace certvault::bench {

inline constexpr std::string_view kUserPin = "bench-user-pin";
inline constexpr std::string_view kSoPin = "bench-so-pin-1234";

// Target: one loaded module with an initialized token.
struct Target {
  std::string name;
  std::unique_ptr<P11Module> module;
  CK_SLOT_ID slot = 0;
};

// SetUpTarget loads `path` and initializes a token labelled "bench".
Result<Target> SetUpTarget(std::string name, const std::string& path);

// SignOpsPerSec: C_SignInit + C_Sign of a 32-byte message with a token key of
// `kind`, one thread, for `seconds`. kUnimplemented if the slot lacks the mechanism.
Result<double> SignOpsPerSec(Target& t, KeyKind kind, double seconds);
// RawOpsPerSec: the same signatures with OpenSSL EVP, a context per operation.
Result<double> RawOpsPerSec(KeyKind kind, double seconds);
// ThreadedSignOpsPerSec: total ECDSA P-256 signatures/s of `threads` threads,
// each on its own session, sharing one token key, for `seconds`.
Result<double> ThreadedSignOpsPerSec(Target& t, int threads, double seconds);

struct FindResult {
  size_t objects = 0;        // token objects actually present (may be < wanted)
  double us_per_lookup = 0;  // C_FindObjectsInit + C_FindObjects + C_FindObjectsFinal
  double rss_growth_mib = 0; // VmRSS after populating and looking up minus before
};
// FindByLabel: grows the token from `present` to `wanted` CKO_DATA token
// objects labelled "<prefix>-<i>" (stopping early after `populate_budget_s`
// seconds), then looks up random existing labels for `seconds`, checking each
// is found exactly once (kDataLoss otherwise).
Result<FindResult> FindByLabel(Target& t, const std::string& prefix, size_t present,
                               size_t wanted, double populate_budget_s, double seconds);

// DurableKeygenPerSec: C_GenerateKeyPair of P-256 token key pairs per second.
Result<double> DurableKeygenPerSec(Target& t, double seconds);
// CreateObjectPerSec: C_CreateObject of CKO_DATA token objects per second.
Result<double> CreateObjectPerSec(Target& t, double seconds);
// LoginMs: mean milliseconds of C_Login(CKU_USER) with the module's default
// PIN KDF parameters, over `reps` login/logout pairs on a fresh session.
Result<double> LoginMs(Target& t, int reps);

}  // namespace certvault::bench

#endif  // CERTVAULT_BENCH_SCENARIOS_H_
