// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// SqlCertDb: identities and roles (tables ca_users, ca_user_roles of
// migration 4; docs/design/roles.md). Every change commits with its audit
// event (InsertAudit) in one transaction.
#include <algorithm>
#include <ctime>

#include "ca/db/sql_cert_db.h"
#include "src/base/status_macros.h"

namespace certvault::ca {

Status CertDb::AddIdentity(const Identity&, const AuditEvent&) { return UnimplementedError("identities"); }
Status CertDb::RemoveIdentity(const std::string&, const AuditEvent&) { return UnimplementedError("identities"); }
Status CertDb::SetRole(const std::string&, const std::string&, bool, const AuditEvent&) {
  return UnimplementedError("identities");
}
Result<Identity> CertDb::FindIdentity(const std::string&) { return UnimplementedError("identities"); }
Result<Identity> CertDb::FindIdentityByCert(const std::string&, const std::string&) {
  return UnimplementedError("identities");
}
Result<std::vector<Identity>> CertDb::ListIdentities() { return UnimplementedError("identities"); }

namespace {

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

Identity ReadIdentity(const SqlStatement& s) { return Identity{s.Text(0), s.Text(1), s.Text(2), s.Int(3), {}}; }

}  // namespace

Result<std::vector<std::string>> SqlCertDb::RolesOf(const std::string& name) {
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt,
                      conn_->Prepare("SELECT role FROM ca_user_roles WHERE name = ?1 ORDER BY role"));
  stmt->BindText(1, name);
  std::vector<std::string> roles;
  while (true) {
    Result<bool> row = stmt->Step();
    if (!row.ok() || !*row) {
      stmt->Reset();
      if (!row.ok()) return row.status();
      break;
    }
    roles.push_back(stmt->Text(0));
  }
  return roles;
}

Status SqlCertDb::AddIdentity(const Identity& id, const AuditEvent& event) {
  if (FindIdentity(id.name).ok()) return AlreadyExistsError("identity " + id.name + " exists");
  if (FindIdentityByCert(id.ca, id.cert_serial).ok()) {
    return AlreadyExistsError("certificate " + id.cert_serial + " is bound to another identity");
  }
  return InTransaction([&]() -> Status {
    CV_ASSIGN_OR_RETURN(SqlStatement * user, conn_->Prepare("INSERT INTO ca_users (name, ca, cert_serial, created_at) "
                                                            "VALUES (?1, ?2, ?3, ?4)"));
    user->BindText(1, id.name);
    user->BindText(2, id.ca);
    user->BindText(3, id.cert_serial);
    user->BindInt(4, id.created_at != 0 ? id.created_at : Now());
    CV_RETURN_IF_ERROR(user->Step().status());
    for (const std::string& role : id.roles) {
      CV_ASSIGN_OR_RETURN(SqlStatement * r, conn_->Prepare("INSERT INTO ca_user_roles (name, role, granted_by, "
                                                           "granted_at) VALUES (?1, ?2, ?3, ?4)"));
      r->BindText(1, id.name);
      r->BindText(2, role);
      r->BindText(3, event.actor);
      r->BindInt(4, Now());
      CV_RETURN_IF_ERROR(r->Step().status());
    }
    return InsertAudit(event);
  });
}

Status SqlCertDb::RemoveIdentity(const std::string& name, const AuditEvent& event) {
  CV_RETURN_IF_ERROR(FindIdentity(name).status());
  return InTransaction([&]() -> Status {
    for (const char* sql : {"DELETE FROM ca_user_roles WHERE name = ?1", "DELETE FROM ca_users WHERE name = ?1"}) {
      CV_ASSIGN_OR_RETURN(SqlStatement * stmt, conn_->Prepare(sql));
      stmt->BindText(1, name);
      CV_RETURN_IF_ERROR(stmt->Step().status());
    }
    return InsertAudit(event);
  });
}

Status SqlCertDb::SetRole(const std::string& name, const std::string& role, bool grant, const AuditEvent& event) {
  CV_RETURN_IF_ERROR(FindIdentity(name).status());
  return InTransaction([&]() -> Status {
    const char* sql = grant ? "INSERT INTO ca_user_roles (name, role, granted_by, granted_at) VALUES (?1, ?2, ?3, ?4)"
                            : "DELETE FROM ca_user_roles WHERE name = ?1 AND role = ?2";
    CV_ASSIGN_OR_RETURN(SqlStatement * stmt, conn_->Prepare(sql));
    stmt->BindText(1, name);
    stmt->BindText(2, role);
    if (grant) {
      stmt->BindText(3, event.actor);
      stmt->BindInt(4, Now());
    }
    CV_RETURN_IF_ERROR(stmt->Step().status());
    return InsertAudit(event);
  });
}

Result<Identity> SqlCertDb::FindIdentity(const std::string& name) {
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt,
                      conn_->Prepare("SELECT name, ca, cert_serial, created_at FROM ca_users WHERE name = ?1"));
  stmt->BindText(1, name);
  CV_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) {
    stmt->Reset();
    return NotFoundError("no identity " + name);
  }
  Identity id = ReadIdentity(*stmt);
  stmt->Reset();
  CV_ASSIGN_OR_RETURN(id.roles, RolesOf(id.name));
  return id;
}

Result<Identity> SqlCertDb::FindIdentityByCert(const std::string& ca, const std::string& serial) {
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt, conn_->Prepare("SELECT name, ca, cert_serial, created_at FROM ca_users "
                                                          "WHERE ca = ?1 AND cert_serial = ?2"));
  stmt->BindText(1, ca);
  stmt->BindText(2, serial);
  CV_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) {
    stmt->Reset();
    return NotFoundError("no identity holds certificate " + serial);
  }
  Identity id = ReadIdentity(*stmt);
  stmt->Reset();
  CV_ASSIGN_OR_RETURN(id.roles, RolesOf(id.name));
  return id;
}

Result<std::vector<Identity>> SqlCertDb::ListIdentities() {
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt,
                      conn_->Prepare("SELECT name, ca, cert_serial, created_at FROM ca_users ORDER BY name"));
  std::vector<Identity> out;
  while (true) {
    Result<bool> row = stmt->Step();
    if (!row.ok() || !*row) {
      stmt->Reset();
      if (!row.ok()) return row.status();
      break;
    }
    out.push_back(ReadIdentity(*stmt));
  }
  for (Identity& id : out) {
    CV_ASSIGN_OR_RETURN(id.roles, RolesOf(id.name));
  }
  return out;
}

}  // namespace certvault::ca
