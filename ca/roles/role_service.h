// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// RoleService: identities, roles and authorization decisions of
// certvault-ca over the CA database (docs/design/roles.md). Every decision
// that refuses, and every change of users and roles, is recorded in the
// audit trail through RecordEvent, the one place that writes these events
// (actor = "name (role+role)", or "name (break-glass)").
// Thread-safety: one RoleService per CertDb; callers serialize as for the
// CertDb (one connection).
#ifndef CERTVAULT_CA_ROLES_ROLE_SERVICE_H_
#define CERTVAULT_CA_ROLES_ROLE_SERVICE_H_

#include <set>
#include <span>
#include <string>
#include <vector>

#include "ca/config/ca_config.h"
#include "ca/db/cert_db.h"
#include "ca/roles/roles.h"

namespace certvault::ca {

// Principal: who asks. An identity signed in with its operator certificate,
// or the holder of the CA token PIN on the instance directory (break-glass:
// allowed to manage users and roles, audited as such).
struct Principal {
  std::string name;
  std::set<Role> roles;
  bool break_glass = false;
  std::string source;  // "cli" or the client address
};

// BreakGlass: the principal of an offline command run with the CA token PIN
// by OS user `os_user`.
Principal BreakGlass(const std::string& os_user);
// ActorText: "alice (operator)", "bob (admin+crypto-officer)",
// "break-glass:root (token PIN)": the audit trail's actor field.
std::string ActorText(const Principal& who);
// RoleSet: role names from the database; unknown names are skipped.
std::set<Role> RoleSet(const std::vector<std::string>& names);

// CheckKeyNotBound: kAlreadyExists when the public key `spki` (DER
// SubjectPublicKeyInfo) is already in the certificate of an identity: one
// key held by one person must not sign in as two identities (that would
// get around the separation of duties).
Status CheckKeyNotBound(CertDb& db, std::span<const uint8_t> spki);

class RoleService {
 public:
  // `db` is borrowed; `ca_name` is the issuing CA's name (audit events).
  RoleService(CertDb& db, std::string ca_name) : db_(db), ca_name_(std::move(ca_name)) {}
  // SetAlerts: every successful change of users and roles also raises a
  // "user-change" / "role-change" alert on `config`'s channels ([audit.alert];
  // borrowed, may be null: no alerts).
  void SetAlerts(const AuditConfig* config) { alerts_ = config; }

  // SignIn: the identity bound to certificate `serial` of CA `ca`.
  // kUnauthenticated (recorded as a failed sign-in) when none is.
  Result<Principal> SignIn(const std::string& ca, const std::string& serial, const std::string& source);
  // RecordSignInFailure: a refused client certificate or TLS sign-in.
  void RecordSignInFailure(const std::string& source, const std::string& who, const std::string& reason);
  // Check: OK when `who` may perform `action` on `target`; otherwise the
  // kPermissionDenied of Authorize, recorded as a denied request.
  Status Check(const Principal& who, Action action, const std::string& target);
  // AddUser: binds `name` to certificate `serial` (of CA `ca`) with `role`.
  // Needs manage-users (or break-glass); kAlreadyExists for a known name.
  Status AddUser(const Principal& who, const std::string& name, Role role, const std::string& ca,
                 const std::string& serial);
  // RemoveUser: kPermissionDenied for one's own identity; kNotFound.
  Status RemoveUser(const Principal& who, const std::string& name);
  // SetRole: grant or take away `role` (CheckGrant's rules; break-glass
  // counts as the authority but obeys the separation of duties).
  Status SetRole(const Principal& who, const std::string& name, Role role, bool grant);
  Result<std::vector<Identity>> List(const Principal& who);
  // RecordBreakGlass: an offline command run with the CA token PIN.
  Status RecordBreakGlass(const Principal& who, const std::string& command);
  // RecordEvent: the one audit call of this service (also for what `who`
  // did through the admin API: "issue", "revoke", "crl").
  Status RecordEvent(const Principal& who, const std::string& action, const std::string& object,
                     const std::string& detail);

 private:
  AuditEvent Event(const Principal& who, const std::string& action, const std::string& object,
                   const std::string& detail) const;
  Status Refuse(const Principal& who, const std::string& what, const std::string& target, Status status);
  // Changed: `status` of a change; when OK, the alert `kind` is raised.
  Status Changed(const Principal& who, const char* kind, const std::string& detail, Status status);

  CertDb& db_;
  std::string ca_name_;
  const AuditConfig* alerts_ = nullptr;
};

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_ROLES_ROLE_SERVICE_H_
