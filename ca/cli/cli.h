// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca command line: shared argument handling. Each command is one
// function `int CmdX(Args&)` returning the exit code (0 ok, 1 error, 2 usage,
// 3 some CSRs of a batch refused). Errors are printed as one line
// "certvault-ca: <message>" and never contain PINs or key material.
#ifndef CERTVAULT_CA_CLI_CLI_H_
#define CERTVAULT_CA_CLI_CLI_H_

#include <map>
#include <string>
#include <vector>

#include "ca/instance/ca_instance.h"
#include "ca/roles/role_service.h"

namespace certvault::ca::cli {

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;  // "--name value" or "--name" -> "1"
  std::map<std::string, std::vector<std::string>> lists;  // repeatable options, in order
  std::string command;  // "issue", "user add", ... (set by main)
  bool Has(const std::string& name) const { return flags.count(name) != 0; }
  std::string Get(const std::string& name, const std::string& def = "") const {
    auto it = flags.find(name);
    return it == flags.end() ? def : it->second;
  }
};

// Fail: prints the status and returns 1.
int Fail(const Status& status);
int Usage(const std::string& message);
// InstanceDir: --dir, else $CERTVAULT_CA_DIR, else "." (as given).
std::string InstanceDir(const Args& args);
// Open: the instance named by --dir (default $CERTVAULT_CA_DIR, then ".").
// With `token`, logs in to the CA token (every command that changes state
// does; a wrong PIN is refused and counted by the token) and, except for
// init and the servers, records the run as break-glass in the audit trail
// (docs/design/roles.md). Only init passes `create_db`.
Result<std::unique_ptr<CaInstance>> Open(const Args& args, bool token, bool create_db = false);
// AuditRefusedStart: when `refusal` is a ca.toml that contradicts the policy
// (IsPolicyContradiction), records it as a policy violation of this command
// in the instance's database (RecordRefusedStart; none before init). Open
// does this; so must a command that calls LoadConfig itself. The refusal
// stands either way.
void AuditRefusedStart(const Args& args, const std::string& dir, const Status& refusal);
// AuditClockRefusal: when `ca`'s clock fails CheckClock (before a CA
// certificate's notBefore or the last signature, off the time source),
// records "clock-refused" (object: the command, detail: the reason) in the
// audit chain (issue 17, A.33-A.35: audited). Nothing when the clock is fine.
void AuditClockRefusal(const Args& args, CaInstance& ca);
// OpenForSigning: Open with the token, then CaInstance::PrepareToSign; a
// refusal for the clock is audited (AuditClockRefusal).
Result<std::unique_ptr<CaInstance>> OpenForSigning(const Args& args);
// Actor: --actor, else the OS user name.
std::string Actor(const Args& args);
// ActorOf: the audit actor of this run: identity --actor, else
// "local:<uid>:<user>"; role "break-glass" (an offline command with the
// token PIN); source "local"; a random request id per run.
AuditActor ActorOf(const Args& args);
Result<Bytes> ReadFileBytes(const std::string& path);

int CmdInit(Args& args);  // cmd_init.cc
int CmdInstallIssuing(Args& args);
int CmdIssue(Args& args);
int CmdRevoke(Args& args);
int CmdCrl(Args& args);
int CmdServe(Args& args);
int CmdOcspRotate(Args& args);
int CmdRollover(Args& args);    // cmd_rollover.cc
int CmdBackup(Args& args);      // cmd_backup.cc (issue 16)
int CmdRestore(Args& args);
int CmdServerCert(Args& args);  // cmd_est.cc
int CmdEnrollCode(Args& args);  // cmd_est.cc
int CmdList(Args& args);
int CmdShow(Args& args);
int CmdProfiles(Args& args);
int CmdAudit(Args& args);
int CmdAuditVerify(Args& args);  // cmd_audit.cc
int CmdAuditExport(Args& args);
int CmdSelftest(Args& args);  // cmd_selftest.cc
int CmdStatus(Args& args);    // cmd_status.cc
int CmdPolicyReport(Args& args);  // cmd_policy.cc
int CmdProvision(Args& args);     // cmd_provision.cc (issue 14)
int CmdUserAdd(Args& args);       // cmd_user.cc
int CmdUserList(Args& args);
int CmdUserRemove(Args& args);
int CmdRoleGrant(Args& args);
int CmdRoleRevoke(Args& args);
// AddIdentityWithCert: issues `name` an operator certificate for the CSR
// at `csr_path` and binds it with `role` (cmd_user.cc; init's authority
// too). The certificate (PEM) goes to `out_path`, or stdout when empty.
Status AddIdentityWithCert(CaInstance& ca, RoleService& roles, const Principal& who, const std::string& name,
                           Role role, const std::string& csr_path, const std::string& out_path);
// ParseReason: an RFC 5280 CRLReason name as its code (cmd_revoke.cc).
Result<int> ParseReason(const std::string& name);
// ParseSince: `audit export --since`: seconds since the epoch or
// YYYY-MM-DDTHH:MM:SSZ; "" is 0 (cmd_audit.cc).
Result<int64_t> ParseSince(const std::string& text);
// CmdRemote: `command` through the admin API of --server as --identity
// (cmd_remote.cc, docs/design/roles.md).
int CmdRemote(Args& args, const std::string& command);
// RequireSelfTests: the power-on self-tests gate of every other command.
int RequireSelfTests();

}  // namespace certvault::ca::cli

#endif  // CERTVAULT_CA_CLI_CLI_H_
