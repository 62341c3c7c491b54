// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/roles/roles.h"

#include <array>
#include <utility>

namespace certvault::ca {
namespace {

constexpr size_t kRoles = std::size(kAllRoles);
constexpr size_t kActions = std::size(kAllActions);

// kMatrix: rows in kAllRoles order, columns in kAllActions order:
// issue, revoke, publish-crl, rotate-keys, configure, manage-users,
// read-certs, read-audit, export-audit, verify-audit. The same table is in
// docs/design/roles.md; change both together.
// clang-format off
constexpr bool X = true, o = false;
constexpr std::array<std::array<bool, kActions>, kRoles> kMatrix = {{
    // iss rev crl rot cfg usr crt ard aex avf
    {o,  o,  o,  o,  o,  X,  X,  X,  X,  X},  // authority
    {o,  o,  o,  o,  X,  o,  X,  o,  o,  o},  // admin
    {o,  o,  X,  X,  o,  o,  X,  o,  o,  o},  // crypto-officer
    {X,  X,  X,  o,  o,  o,  X,  o,  o,  o},  // operator
    {o,  o,  o,  o,  o,  o,  X,  X,  X,  X},  // auditor
}};
// clang-format on

// kConflicts: pairs one identity may not hold together (A.27-A.30: who
// operates or administers the CA does not also audit it; an operator does
// not also administer the system that checks them).
constexpr std::pair<Role, Role> kConflicts[] = {
    {Role::kAdmin, Role::kAuditor},
    {Role::kOperator, Role::kAdmin},
    {Role::kOperator, Role::kAuditor},
    {Role::kCryptoOfficer, Role::kAuditor},
};

size_t Index(Role role) { return static_cast<size_t>(role); }
size_t Index(Action action) { return static_cast<size_t>(action); }

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAuthority:
      return "authority";
    case Role::kAdmin:
      return "admin";
    case Role::kCryptoOfficer:
      return "crypto-officer";
    case Role::kOperator:
      return "operator";
    case Role::kAuditor:
      return "auditor";
    default:
      return "unknown";
  }
}

std::string_view ActionName(Action action) {
  switch (action) {
    case Action::kIssue:
      return "issue";
    case Action::kRevoke:
      return "revoke";
    case Action::kPublishCrl:
      return "publish-crl";
    case Action::kRotateKeys:
      return "rotate-keys";
    case Action::kConfigure:
      return "configure";
    case Action::kManageUsers:
      return "manage-users";
    case Action::kReadCerts:
      return "read-certs";
    case Action::kReadAudit:
      return "read-audit";
    case Action::kExportAudit:
      return "export-audit";
    case Action::kVerifyAudit:
      return "verify-audit";
    default:
      return "unknown";
  }
}

Result<Role> ParseRole(std::string_view name) {
  for (Role role : kAllRoles) {
    if (RoleName(role) == name) return role;
  }
  return InvalidArgumentError("unknown role '" + std::string(name) +
                              "' (authority, admin, crypto-officer, operator, auditor)");
}

bool Allowed(Role role, Action action) {
  if (Index(role) >= kRoles || Index(action) >= kActions) return false;
  return kMatrix[Index(role)][Index(action)];
}

Status Authorize(const std::set<Role>& roles, Action action) {
  for (Role role : roles) {
    if (Allowed(role, action)) return OkStatus();
  }
  std::string held;
  for (Role role : roles) held += (held.empty() ? "" : ", ") + std::string(RoleName(role));
  return PermissionDeniedError("not authorized to " + std::string(ActionName(action)) +
                               " (roles: " + (held.empty() ? "none" : held) + ")");
}

Status CheckSeparation(const std::set<Role>& roles) {
  for (const auto& [a, b] : kConflicts) {
    if (roles.count(a) != 0 && roles.count(b) != 0) {
      return FailedPreconditionError("separation of duties: one identity may not be both " + std::string(RoleName(a)) +
                                     " and " + std::string(RoleName(b)));
    }
  }
  return OkStatus();
}

Status CheckGrant(const std::string& actor, const std::set<Role>& actor_roles, const std::string& target,
                  const std::set<Role>& target_roles, Role role, bool grant) {
  if (actor_roles.count(Role::kAuthority) == 0) {
    return PermissionDeniedError("role assignments need the authority role");
  }
  if (actor == target) return PermissionDeniedError("nobody changes their own roles");
  std::set<Role> after = target_roles;
  std::string name(RoleName(role));
  if (grant) {
    if (!after.insert(role).second) return FailedPreconditionError(target + " already holds the role " + name);
    return CheckSeparation(after);
  }
  if (after.erase(role) == 0) return FailedPreconditionError(target + " does not hold the role " + name);
  return OkStatus();
}

Status CheckIdentityName(std::string_view name) {
  if (name.empty() || name.size() > 64) return InvalidArgumentError("an identity name has 1 to 64 characters");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-' || c == '@';
    if (!ok) return InvalidArgumentError("an identity name is made of A-Z a-z 0-9 . _ - @");
  }
  return OkStatus();
}

}  // namespace certvault::ca
