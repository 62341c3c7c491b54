// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Roles of certvault-ca and their permission matrix (docs/design/roles.md).
// The CKMS guidance (A.27-A.30) separates a responsible person (the System
// Authority), administrators (system administrator, cryptographic officer),
// users (operators: issue and revoke) and auditors. kMatrix below is the one
// table every check reads; docs/design/roles.md prints the same table and
// roles_test.cc checks every cell of it.
// Thread-safety: pure functions over constant tables.
#ifndef CERTVAULT_CA_ROLES_ROLES_H_
#define CERTVAULT_CA_ROLES_ROLES_H_

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/result.h"

namespace certvault::ca {

enum class Role { kAuthority, kAdmin, kCryptoOfficer, kOperator, kAuditor };
inline constexpr Role kAllRoles[] = {Role::kAuthority, Role::kAdmin, Role::kCryptoOfficer, Role::kOperator,
                                     Role::kAuditor};

// Action: what a request asks to do (one column of the matrix).
enum class Action {
  kIssue,        // issue certificates
  kRevoke,       // revoke certificates
  kPublishCrl,   // sign and publish a CRL
  kRotateKeys,   // rotate CA / OCSP signer keys
  kConfigure,    // change configuration and profiles
  kManageUsers,  // add/remove users, grant/revoke roles
  kReadCerts,    // list and show certificates
  kReadAudit,    // read the audit trail
  kExportAudit,  // export the audit trail
  kVerifyAudit,  // verify the audit chain
};
inline constexpr Action kAllActions[] = {
    Action::kIssue,       Action::kRevoke,    Action::kPublishCrl, Action::kRotateKeys,  Action::kConfigure,
    Action::kManageUsers, Action::kReadCerts, Action::kReadAudit,  Action::kExportAudit, Action::kVerifyAudit};

// RoleName / ActionName: the names in ca.toml, the database, the CLI and the
// audit trail ("crypto-officer", "publish-crl", ...).
std::string_view RoleName(Role role);
std::string_view ActionName(Action action);
// ParseRole: kInvalidArgument naming the five roles for anything else.
Result<Role> ParseRole(std::string_view name);

// Allowed: whether `role` may perform `action` (the matrix cell).
bool Allowed(Role role, Action action);
// Authorize: OK when one of `roles` allows `action`; kPermissionDenied
// naming the action otherwise (also for an identity without roles).
Status Authorize(const std::set<Role>& roles, Action action);

// CheckSeparation: kFailedPrecondition naming the pair when `roles` holds
// two conflicting roles (admin+auditor, operator+admin, operator+auditor,
// crypto-officer+auditor).
Status CheckSeparation(const std::set<Role>& roles);

// CheckGrant: may `actor` (holding `actor_roles`) give `target` (holding
// `target_roles`) the role `role` (grant) or take it away (!grant)?
// kPermissionDenied unless the actor holds the authority and is not the
// target (nobody changes their own roles); kFailedPrecondition when the
// result breaks the separation of duties, when the role is already held
// (grant) or not held (revoke).
Status CheckGrant(const std::string& actor, const std::set<Role>& actor_roles, const std::string& target,
                  const std::set<Role>& target_roles, Role role, bool grant);

// CheckIdentityName: 1..64 of A-Z a-z 0-9 . _ - @ (a name goes into a
// certificate subject and the audit trail). kInvalidArgument otherwise.
Status CheckIdentityName(std::string_view name);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_ROLES_ROLES_H_
