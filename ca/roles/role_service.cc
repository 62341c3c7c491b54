// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/roles/role_service.h"

#include <openssl/x509.h>

#include <cstring>
#include <ctime>

#include "ca/audit/audit_alert.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::ca {

Principal BreakGlass(const std::string& os_user) {
  Principal p;
  p.name = "break-glass:" + os_user;
  p.break_glass = true;
  p.source = "cli";
  return p;
}

std::string ActorText(const Principal& who) {
  if (who.break_glass) return who.name + " (token PIN)";
  std::string roles;
  for (Role r : who.roles) roles += (roles.empty() ? "" : "+") + std::string(RoleName(r));
  return who.name + " (" + (roles.empty() ? "no role" : roles) + ")";
}

std::set<Role> RoleSet(const std::vector<std::string>& names) {
  std::set<Role> out;
  for (const std::string& n : names) {
    Result<Role> r = ParseRole(n);
    if (r.ok()) out.insert(*r);
  }
  return out;
}

Status CheckKeyNotBound(CertDb& db, std::span<const uint8_t> spki) {
  CV_ASSIGN_OR_RETURN(std::vector<Identity> ids, db.ListIdentities());
  for (const Identity& id : ids) {
    Result<CertRecord> rec = db.FindBySerial(id.ca, id.cert_serial);
    if (!rec.ok()) continue;
    const uint8_t* in = rec->der.data();
    ossl::UniquePtr<X509> cert(crypto::D2iX509(&in, static_cast<long>(rec->der.size())));  // NOLINT(runtime/int)
    if (cert == nullptr) continue;
    unsigned char* der = nullptr;
    int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &der);
    bool same = len > 0 && static_cast<size_t>(len) == spki.size() && std::memcmp(der, spki.data(), spki.size()) == 0;
    OPENSSL_free(der);
    if (same) return AlreadyExistsError("this key is already bound to the identity " + id.name);
  }
  return OkStatus();
}

AuditEvent RoleService::Event(const Principal& who, const std::string& action, const std::string& object,
                              const std::string& detail) const {
  std::string from = who.source.empty() ? "" : " from " + who.source;
  return AuditEvent{static_cast<int64_t>(std::time(nullptr)), ActorText(who), action, ca_name_, object, detail + from};
}

Status RoleService::RecordEvent(const Principal& who, const std::string& action, const std::string& object,
                                const std::string& detail) {
  return db_.AddAudit(Event(who, action, object, detail));
}

Status RoleService::Refuse(const Principal& who, const std::string& what, const std::string& target, Status status) {
  // The refusal stands even if the audit write fails; the caller sees both.
  Status recorded = RecordEvent(who, "denied", target, what + ": " + std::string(status.message()));
  if (!recorded.ok()) return recorded.Annotate("recording a denied request");
  return status;
}

Result<Principal> RoleService::SignIn(const std::string& ca, const std::string& serial, const std::string& source) {
  Result<Identity> id = db_.FindIdentityByCert(ca, serial);
  if (!id.ok()) {
    if (id.status().code() != StatusCode::kNotFound) return id.status();
    RecordSignInFailure(source, "certificate " + serial, "bound to no identity");
    return UnauthenticatedError("the client certificate is bound to no identity");
  }
  Principal p{id->name, RoleSet(id->roles), false, source};
  return p;
}

void RoleService::RecordSignInFailure(const std::string& source, const std::string& who, const std::string& reason) {
  Principal anon{"unauthenticated", {}, false, source};
  (void)RecordEvent(anon, "sign-in-failed", who, reason);  // best effort: the request is refused anyway
}

Status RoleService::Check(const Principal& who, Action action, const std::string& target) {
  if (who.break_glass) return OkStatus();  // the token PIN holder: audited by the command itself
  Status st = Authorize(who.roles, action);
  if (st.ok()) return st;
  return Refuse(who, std::string(ActionName(action)), target, std::move(st));
}

Status RoleService::AddUser(const Principal& who, const std::string& name, Role role, const std::string& ca,
                            const std::string& serial) {
  CV_RETURN_IF_ERROR(CheckIdentityName(name));
  CV_RETURN_IF_ERROR(Check(who, Action::kManageUsers, name));
  if (!who.break_glass && who.name == name) {
    return Refuse(who, "add-user", name, PermissionDeniedError("nobody changes their own roles"));
  }
  Identity id{name, ca, serial, static_cast<int64_t>(std::time(nullptr)), {std::string(RoleName(role))}};
  std::string detail = "role " + std::string(RoleName(role)) + ", certificate " + serial;
  return Changed(who, "user-change", "added " + name + ": " + detail,
                 db_.AddIdentity(id, Event(who, "user-add", name, detail)));
}

Status RoleService::RemoveUser(const Principal& who, const std::string& name) {
  CV_RETURN_IF_ERROR(Check(who, Action::kManageUsers, name));
  if (!who.break_glass && who.name == name) {
    return Refuse(who, "remove-user", name, PermissionDeniedError("nobody removes their own identity"));
  }
  return Changed(who, "user-change", "removed " + name,
                 db_.RemoveIdentity(name, Event(who, "user-remove", name, "identity and its roles removed")));
}

Status RoleService::SetRole(const Principal& who, const std::string& name, Role role, bool grant) {
  CV_ASSIGN_OR_RETURN(Identity target, db_.FindIdentity(name));
  std::set<Role> actor_roles = who.roles;
  if (who.break_glass) actor_roles.insert(Role::kAuthority);
  std::string what = grant ? "role-grant" : "role-revoke";
  Status st = CheckGrant(who.name, actor_roles, name, RoleSet(target.roles), role, grant);
  if (!st.ok()) return Refuse(who, what, name, std::move(st));
  return Changed(who, "role-change", what + " " + std::string(RoleName(role)) + " for " + name,
                 db_.SetRole(name, std::string(RoleName(role)), grant, Event(who, what, name, std::string(RoleName(role)))));
}

Status RoleService::Changed(const Principal& who, const char* kind, const std::string& detail, Status status) {
  if (status.ok() && alerts_ != nullptr) {
    AuditActor actor;
    actor.identity = ActorText(who);
    actor.source = who.source;
    (void)RaiseAlert(*alerts_, Alert{kind, actor, ca_name_, detail, 0});  // a failing channel never undoes the change
  }
  return status;
}

Result<std::vector<Identity>> RoleService::List(const Principal& who) {
  CV_RETURN_IF_ERROR(Check(who, Action::kReadCerts, "users"));
  return db_.ListIdentities();
}

Status RoleService::RecordBreakGlass(const Principal& who, const std::string& command) {
  return RecordEvent(who, "break-glass", command, "offline command with the CA token PIN");
}

}  // namespace certvault::ca
