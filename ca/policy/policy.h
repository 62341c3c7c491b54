// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Policy: the deployment's key-management policy as data (policy.toml). The
// parser lives in src/policy/policy.h (shared with the vault, certvaultd and
// the PKCS#11 module); the CA uses it under its own names.
#ifndef CERTVAULT_CA_POLICY_POLICY_H_
#define CERTVAULT_CA_POLICY_POLICY_H_

#include "src/policy/policy.h"

namespace certvault::ca {

using kmpolicy::IsKnownKeyType;
using kmpolicy::LoadPolicy;
using kmpolicy::ParsePolicy;
using kmpolicy::Policy;

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_POLICY_POLICY_H_
