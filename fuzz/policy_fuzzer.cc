// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// policy.toml (src/policy/policy.cc): the TOML parser and the schema checks.
// Invariants: a policy that parses is internally consistent (k <= n, at
// least one allowed key type, each known), and checking a configuration
// against it never crashes.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ca/config/ca_config.h"
#include "ca/policy/policy.h"
#include "ca/policy/policy_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 65536) return 0;
  auto policy = certvault::ca::ParsePolicy(std::string(reinterpret_cast<const char*>(data), size));
  if (!policy.ok()) return 0;
  if (policy->quorum_k > policy->quorum_n || policy->allowed_key_types.empty()) std::abort();
  for (const std::string& t : policy->allowed_key_types) {
    if (!certvault::ca::IsKnownKeyType(t)) std::abort();
  }
  certvault::ca::CaConfig cfg;
  cfg.profiles.emplace("p", certvault::ca::Profile{});
  (void)certvault::ca::CheckConfigAgainstPolicy(*policy, cfg);
  (void)certvault::ca::CheckCsrKeyType(&*policy, "rsa-2048");
  return 0;
}
