// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Policy: the deployment's key-management policy as data (policy.toml,
// schema in docs/design/policy.md; CKMS framework items A.01-A.05 of
// NIST SP 800-130 / the CRYPTREC key-management guidance). Parsing only
// reads and validates the file; what each component enforces is in
// ca/policy/policy_check.h (CA) and src/core/key_policy.h (vault). Pure:
// no CA code, so the vault, certvaultd and the module share this parser
// (certvault::ca keeps the same names through ca/policy/policy.h). Rules for parts that do not exist yet (roles, quorum,
// backups) are parsed and validated so that the policy can already name
// them; the report shows them as "not enforced yet".
#ifndef CERTVAULT_POLICY_POLICY_H_
#define CERTVAULT_POLICY_POLICY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "src/base/result.h"

namespace certvault::kmpolicy {

struct Policy {
  std::string path;  // where it was read from ("" when parsed from text)
  std::string name = "unnamed policy";
  std::string version = "1";
  std::string oid;  // certificatePolicies OID of the CP, or empty
  // [algorithms]: key types ("ec-p256", "rsa-3072", "ed25519", ...) that CA
  // keys, profiles and CSRs may use; RSA keys additionally need min_rsa_bits.
  std::vector<std::string> allowed_key_types = {"ec-p256", "ec-p384", "rsa-3072", "rsa-4096"};
  uint32_t min_rsa_bits = 3072;
  // [crypto_periods]: days (SP 800-57 Part 1 §5.3).
  uint32_t max_root_key_days = 7300;
  uint32_t max_issuing_key_usage_days = 1825;  // originator-usage period of the issuing key
  uint32_t max_issuing_cert_days = 3650;
  // max_key_days: vault keys (the PKCS#11 module, certvaultd, certvault): a
  // new private or secret key ends (CKA_END_DATE, its last day of use) at
  // most this many days after it starts (CKA_START_DATE, else the day it is
  // made); one without an end date gets that one. 0: no limit.
  uint32_t max_key_days = 0;
  // [certificates]
  uint32_t max_leaf_validity_days = 398;
  // [pin]
  uint32_t pin_min_length = 8;
  uint32_t pin_max_attempts = 10;
  // [time]
  uint32_t max_clock_offset_seconds = 10;
  bool require_time_source = false;
  // [audit]
  std::vector<std::string> audited_events = {"issue", "revoke", "crl", "init", "key_state"};
  // [roles] (not enforced yet)
  std::vector<std::string> roles = {"ca-admin", "ca-operator", "auditor"};
  std::vector<std::vector<std::string>> separated;  // role pairs one person may not hold together
  // [quorum] (not enforced yet): k of n custodians for key ceremonies.
  uint32_t quorum_k = 1;
  uint32_t quorum_n = 1;
  // [backup] (not enforced yet)
  bool backup_required = true;
  uint32_t backup_max_interval_hours = 24;
  bool backup_encrypted = true;
  uint32_t backup_copies = 2;
};

// ParsePolicy: kInvalidArgument with "policy.toml: " and the offending key
// (or the TOML parser's line) for a malformed or inconsistent policy. A
// missing key keeps the default above; unknown tables or keys are refused so
// that a typo never silently weakens the policy.
Result<Policy> ParsePolicy(const std::string& text);
// LoadPolicy: reads and parses PATH. kNotFound when it cannot be read.
Result<Policy> LoadPolicy(const std::string& path);
// IsKnownKeyType: "ec-p256", "ec-p384", "ec-p521", "ed25519", "ed448",
// "rsa-BITS" (2048..16384).
bool IsKnownKeyType(const std::string& type);

}  // namespace certvault::kmpolicy

#endif  // CERTVAULT_POLICY_POLICY_H_
