// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// What certvault-ca enforces of policy.toml (docs/design/policy.md):
// at load, a ca.toml that contradicts the policy is refused (the CA does not
// start); at issuance, a CSR whose key type the policy does not allow is
// refused with the reason.
#ifndef CERTVAULT_CA_POLICY_POLICY_CHECK_H_
#define CERTVAULT_CA_POLICY_POLICY_CHECK_H_

#include <string>

#include "ca/config/ca_config.h"
#include "ca/policy/policy.h"
#include "src/base/status.h"

namespace certvault::ca {

// kPolicyEnv: an environment variable naming the policy file; it overrides
// ca.toml's [ca] policy (certvault-ca --policy FILE sets it).
inline constexpr char kPolicyEnv[] = "CERTVAULT_CA_POLICY";

// KeyTypeAllowed: `type` ("ec-p256", "rsa-2048", ...) is in
// allowed_key_types and, for RSA, has at least min_rsa_bits.
bool KeyTypeAllowed(const Policy& policy, const std::string& type);

// CheckConfigAgainstPolicy: kFailedPrecondition "configuration contradicts
// policy: ..." naming the ca.toml setting, its value and the policy rule
// for the first contradiction: the CA key type, root/issuing validity, the
// issuing key's usage period, a profile's days or key_algorithms, the clock
// skew bound, a missing time source when the policy requires one.
Status CheckConfigAgainstPolicy(const Policy& policy, const CaConfig& cfg);

// CheckCsrKeyType: kPermissionDenied naming the key type and the rule when
// the policy (if any) does not allow a CSR's key type.
Status CheckCsrKeyType(const Policy* policy, const std::string& key_type);

// ApplyPolicy: loads the policy named by $CERTVAULT_CA_POLICY or ca.toml's
// policy_file (relative to the instance directory) into cfg.policy and runs
// CheckConfigAgainstPolicy. No policy named: OK, cfg.policy stays null.
Status ApplyPolicy(CaConfig& cfg);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_POLICY_POLICY_CHECK_H_
