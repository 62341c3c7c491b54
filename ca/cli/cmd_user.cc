// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca user add|list|remove, role grant|revoke: identities and roles
// on the instance directory (docs/design/roles.md). Run offline they are
// break-glass: the CA token PIN is the credential, and each run is audited
// as break-glass; the rules of the roles (separation of duties) still hold.
#include <cstdio>
#include <ctime>

#include "ca/cli/cli.h"
#include "ca/issuance/csr.h"
#include "ca/roles/role_service.h"
#include "src/base/status_macros.h"

namespace certvault::ca::cli {
namespace {

// Offline: the instance with the token open (Open records the break-glass
// run in the audit trail before anything changes) and its principal.
struct Offline {
  std::unique_ptr<CaInstance> ca;
  std::unique_ptr<RoleService> roles;
  Principal who;
};

Result<Offline> OpenOffline(const Args& args, bool sign) {
  Offline o;
  CV_ASSIGN_OR_RETURN(o.ca, sign ? OpenForSigning(args) : Open(args, true));
  o.roles = std::make_unique<RoleService>(o.ca->db(), o.ca->Name(CaRole::kIssuing));
  o.roles->SetAlerts(&o.ca->config().audit);
  o.who = BreakGlass(Actor(args));
  return o;
}

std::string RolesText(const std::vector<std::string>& roles) {
  std::string out;
  for (const std::string& r : roles) out += (out.empty() ? "" : ",") + r;
  return out.empty() ? "-" : out;
}

}  // namespace

Status AddIdentityWithCert(CaInstance& ca, RoleService& roles, const Principal& who, const std::string& name, Role role,
                           const std::string& csr_path, const std::string& out_path) {
  CV_RETURN_IF_ERROR(CheckIdentityName(name));
  CV_RETURN_IF_ERROR(roles.Check(who, Action::kManageUsers, name));
  if (ca.db().FindIdentity(name).ok()) return AlreadyExistsError("identity " + name + " exists");
  if (!out_path.empty()) CV_RETURN_IF_ERROR(CheckWritable(out_path));
  CV_ASSIGN_OR_RETURN(Bytes csr, ReadFileBytes(csr_path));
  CV_ASSIGN_OR_RETURN(ParsedCsr parsed, ParseCsr(csr, ca.config().max_csr_bytes));
  CV_RETURN_IF_ERROR(CheckKeyNotBound(ca.db(), parsed.spki));
  CV_ASSIGN_OR_RETURN(auto issued, ca.IssueOperatorCert(name, csr, ActorText(who)));
  CV_RETURN_IF_ERROR(roles.AddUser(who, name, role, ca.Name(CaRole::kIssuing), issued.first));
  CV_ASSIGN_OR_RETURN(std::string pem, x509::PemEncode("CERTIFICATE", issued.second));
  if (out_path.empty()) {
    std::fputs(pem.c_str(), stdout);
    return OkStatus();
  }
  return WriteFile(out_path, pem);
}

int CmdUserAdd(Args& args) {
  Result<Role> role = ParseRole(args.Get("role"));
  if (!role.ok()) return Usage(std::string(role.status().message()));
  if (Status st = CheckIdentityName(args.Get("name")); !st.ok()) return Usage(std::string(st.message()));
  auto o = OpenOffline(args, true);
  if (!o.ok()) return Fail(o.status());
  Status st = AddIdentityWithCert(*o->ca, *o->roles, o->who, args.Get("name"), *role, args.Get("csr"), args.Get("out"));
  if (!st.ok()) return Fail(st);
  std::fprintf(stderr, "identity %s added with role %s\n", args.Get("name").c_str(),
               std::string(RoleName(*role)).c_str());
  return 0;
}

int CmdUserList(Args& args) {
  auto inst = Open(args, false);
  if (!inst.ok()) return Fail(inst.status());
  auto ids = (*inst)->db().ListIdentities();
  if (!ids.ok()) return Fail(ids.status());
  for (const Identity& id : *ids) {
    std::printf("%s\t%s\t%s\n", id.name.c_str(), RolesText(id.roles).c_str(), id.cert_serial.c_str());
  }
  return 0;
}

int CmdUserRemove(Args& args) {
  if (args.positional.size() != 1) return Usage("user remove: give one NAME");
  const std::string& name = args.positional[0];
  auto o = OpenOffline(args, false);
  if (!o.ok()) return Fail(o.status());
  Result<Identity> id = o->ca->db().FindIdentity(name);
  Status st = id.ok() ? o->roles->RemoveUser(o->who, name) : id.status();
  // Its certificate is revoked too (RFC 5280 privilegeWithdrawn): it could
  // be bound again by nobody, but relying parties see it is over.
  std::vector<Revocation> rev{{id.ok() ? id->cert_serial : "", 9, 0}};
  Result<CertRecord> cert = st.ok() ? o->ca->db().FindBySerial(id->ca, id->cert_serial) : Result<CertRecord>(st);
  bool revoke = cert.ok() && !cert->revoked;  // revoked already (through the admin API): nothing more to do
  if (revoke) st = o->ca->db().Revoke(id->ca, rev, static_cast<int64_t>(std::time(nullptr)), ActorText(o->who));
  if (revoke && st.ok()) st = o->ca->RecordRevocations(id->ca);
  if (!st.ok()) return Fail(st);
  std::fprintf(stderr, "identity %s removed, certificate %s revoked\n", name.c_str(), id->cert_serial.c_str());
  return 0;
}

int CmdRoleChange(Args& args, bool grant) {
  if (args.positional.size() != 2) return Usage("role grant|revoke: give NAME ROLE");
  Result<Role> role = ParseRole(args.positional[1]);
  if (!role.ok()) return Usage(std::string(role.status().message()));
  const std::string& name = args.positional[0];
  auto o = OpenOffline(args, false);
  if (!o.ok()) return Fail(o.status());
  Status st = o->roles->SetRole(o->who, name, *role, grant);
  if (!st.ok()) return Fail(st);
  std::fprintf(stderr, "%s %s role %s\n", name.c_str(), grant ? "now holds" : "no longer holds",
               std::string(RoleName(*role)).c_str());
  return 0;
}

int CmdRoleGrant(Args& args) { return CmdRoleChange(args, true); }
int CmdRoleRevoke(Args& args) { return CmdRoleChange(args, false); }

}  // namespace certvault::ca::cli
