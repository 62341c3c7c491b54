// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The admin routes that act on the CA instance itself (docs/design/roles.md,
// "Admin API"): user add, configuration, key rollover and audit
// verification run as CaTasks, one at a time on the serve loop's thread, on
// a CA instance of their own (never the one the responder and the issue
// queue use); audit export reads the chain on the admin connection. Each is
// checked against the matrix first (a refusal is a "denied" record), and
// what it did or why it failed is recorded with the identity that asked.
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "ca/audit/audit_alert.h"
#include "ca/db/audit_chain.h"
#include "ca/issuance/csr.h"
#include "ca/policy/policy_check.h"
#include "ca/policy/policy_violation.h"
#include "ca/server/admin_service.h"
#include "src/base/status_macros.h"
#include "src/crypto/x509_build.h"

namespace certvault::ca {
namespace {

AuditActor ActorOf(const Principal& who) {
  AuditActor actor(ActorText(who));
  actor.source = who.source;
  return actor;
}

// AddOperator: the task of user add, as `certvault-ca user add` does it
// offline (cmd_user.cc): the CSR's key bound to nobody yet, the operator
// certificate, then the identity (RoleService records and alerts it).
Result<std::string> AddOperator(CaInstance& ca, const Principal& who, const std::string& name, Role role,
                                const Bytes& csr) {
  RoleService roles(ca.db(), ca.Name(CaRole::kIssuing));
  roles.SetAlerts(&ca.config().audit);
  if (ca.db().FindIdentity(name).ok()) return AlreadyExistsError("identity " + name + " exists");
  CV_ASSIGN_OR_RETURN(ParsedCsr parsed, ParseCsr(csr, ca.config().max_csr_bytes));
  CV_RETURN_IF_ERROR(CheckKeyNotBound(ca.db(), parsed.spki));
  CV_RETURN_IF_ERROR(ca.PrepareToSign());
  CV_ASSIGN_OR_RETURN(auto issued, ca.IssueOperatorCert(name, csr, ActorText(who)));
  CV_RETURN_IF_ERROR(roles.AddUser(who, name, role, ca.Name(CaRole::kIssuing), issued.first));
  return x509::PemEncode("CERTIFICATE", issued.second);
}

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return UnavailableError("cannot read " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// ReplaceFile: `path` becomes `text` with the mode the file had (init
// writes ca.toml 0600): a temporary file of that mode, fsynced, renamed.
Status ReplaceFile(const std::string& path, const std::string& text) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return UnavailableError("cannot stat " + path);
  std::string tmp = path + ".admin." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, st.st_mode & 0600);
  if (fd < 0) return UnavailableError("cannot write " + tmp);
  bool ok = ::fchmod(fd, st.st_mode & 07777) == 0;
  for (size_t off = 0; ok && off < text.size();) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    ok = n > 0;
    if (ok) off += static_cast<size_t>(n);
  }
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return UnavailableError("cannot write " + path);
  }
  return OkStatus();
}

// ApplyConfig: `text` becomes DIR/ca.toml when it loads as the CA would
// load it at its next start (ParseConfig, the policy, [server]) and keeps
// CheckConfigChange; then [server] is reloaded (as SIGHUP). Nothing is written
// when a check fails.
Result<std::string> ApplyConfig(CaInstance& ca, const Principal& who, const std::string& text,
                                const std::function<Status()>& reload) {
  const CaConfig& now = ca.config();
  Result<CaConfig> next = ParseConfig(text, now.dir);
  if (!next.ok()) return InvalidArgumentError(std::string(next.status().message()));
  CV_RETURN_IF_ERROR(CheckConfigChange(now, *next));
  if (Status policy = ApplyPolicy(*next); !policy.ok()) {
    Status refused = FailedPreconditionError(std::string(policy.message()));
    if (policy.code() == StatusCode::kFailedPrecondition) {  // a contradiction, not an unreadable policy file
      CV_RETURN_IF_ERROR(RecordPolicyViolation(ca.db(), now.audit, ActorOf(who), ca.Name(CaRole::kIssuing), "ca.toml",
                                               PolicyRuleOf(policy, "policy.toml"), refused));
    }
    return refused;
  }
  Result<ServerConfig> server = ParseServerConfig(text, now.dir, now.name);
  if (!server.ok()) return InvalidArgumentError(std::string(server.status().message()));
  std::string path = now.dir + "/ca.toml";
  CV_ASSIGN_OR_RETURN(std::string old_text, ReadText(path));
  CV_RETURN_IF_ERROR(ReplaceFile(path, text));
  Status reloaded = reload ? reload() : OkStatus();
  if (!reloaded.ok()) {
    // The file is written; put the old one back so that disk and process agree.
    (void)ReplaceFile(path, old_text);
    return FailedPreconditionError("[server] does not load, nothing changed: " + std::string(reloaded.message()));
  }
  return std::string("ca.toml written; [server] and the profiles are in force now, the rest of [ca] and [audit] from the "
                     "next start");
}

std::string Sha256Hex(const std::string& text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr) != 1) return "";
  return ToHex(std::span<const uint8_t>(md, len));
}

// ChangeConfig: the task of POST config, recorded as "config-change" with
// the SHA-256 of ca.toml before and after.
Result<std::string> ChangeConfig(CaInstance& ca, const Principal& who, const std::string& text,
                                 const std::function<Status()>& reload) {
  Result<std::string> old_text = ReadText(ca.config().dir + "/ca.toml");
  std::string before = old_text.ok() ? Sha256Hex(*old_text) : "";
  CV_ASSIGN_OR_RETURN(std::string done, ApplyConfig(ca, who, text, reload));
  RoleService roles(ca.db(), ca.Name(CaRole::kIssuing));
  std::string detail = "sha256 " + before + " -> " + Sha256Hex(text);
  CV_RETURN_IF_ERROR(roles.RecordEvent(who, "config-change", "ca.toml", detail + "; " + done));
  // ca.toml holds the access rules ([server] authorize, [server.admin]):
  // a change is alerted at once, like user and role changes (issue 15, F.15).
  // A failing channel never undoes the change (RaiseAlert runs them all).
  (void)RaiseAlert(ca.config().audit, Alert{"config-change", ActorOf(who), ca.Name(CaRole::kIssuing), detail, 0});
  return done;
}

// RollOver: the task of POST rollover; CaInstance::Rollover records
// "rollover" with the actor.
Result<std::string> RollOver(CaInstance& ca, bool root, const AuditActor& actor, const std::function<void()>& rolled) {
  CV_RETURN_IF_ERROR(ca.PrepareToSign());
  CV_RETURN_IF_ERROR(ca.Rollover(root, actor));
  if (rolled) rolled();
  return "issuing CA generation " + std::to_string(ca.Generation(CaRole::kIssuing)) + " (" + ca.Name(CaRole::kIssuing) +
         ") is current; this server switches to it before this answer (its log names a failed switch, during "
         "which issuance answers 503 until SIGHUP retries it)";
}

Result<std::string> VerifyChain(CaInstance& ca) {
  CV_ASSIGN_OR_RETURN(AuditVerifyReport r, ca.VerifyAudit("", ""));
  if (!r.ok) return "audit chain BROKEN at seq " + std::to_string(r.first_bad_seq) + ": " + r.problem;
  return "audit chain ok: " + std::to_string(r.records) + " records (seq " + std::to_string(r.last_seq) + "), " +
         std::to_string(r.checkpoints) + " signed checkpoints";
}

}  // namespace

Status CheckConfigChange(const CaConfig& now, const CaConfig& next) {
  const std::pair<const char*, bool> fixed[] = {
      {"[ca] name", now.name == next.name},
      {"[ca] root_subject", now.root_subject == next.root_subject},
      {"[ca] issuing_subject", now.issuing_subject == next.issuing_subject},
      {"[ca] key_algorithm", now.key_algorithm == next.key_algorithm},
      {"[ca] signature_algorithm", now.signature_algorithm == next.signature_algorithm},
      {"[ca] database", now.database == next.database},
      {"[ca] policy", now.policy_file == next.policy_file},
      {"[token]", now.token.module == next.token.module && now.token.label == next.token.label &&
                      now.token.pin_file == next.token.pin_file && now.token.pin_env == next.token.pin_env},
  };
  for (const auto& [what, same] : fixed) {
    if (!same) return FailedPreconditionError(std::string(what) + " cannot be changed through the admin API");
  }
  return OkStatus();
}

// RunOnCa: `task` on the CA's thread; its failure is recorded as `action`
// with the result code, its success is recorded by the task or here.
Status AdminService::RunOnCa(Call& call, const std::string& action, const std::string& target, const CaTask& task,
                             HttpReply& reply) {
  if (!deps_.run_on_ca) return UnavailableError("the CA instance is not available to the admin API");
  Result<std::string> out = deps_.run_on_ca(task);
  if (!out.ok()) {
    std::lock_guard<std::mutex> lock(db_mu_);
    CV_RETURN_IF_ERROR(roles_.RecordEvent(call.who, action + "-failed", target, std::string(out.status().message())));
    return out.status();
  }
  AdminText(reply, 200, *out);
  return OkStatus();
}

Status AdminService::UserAdd(const HttpRequest& request, const std::string& name, const std::string& role_name,
                             Call& call, HttpReply& reply) {
  CV_RETURN_IF_ERROR(CheckIdentityName(name));
  CV_ASSIGN_OR_RETURN(Role role, ParseRole(role_name));
  if (request.too_large) return ResourceExhaustedError("request body too large");
  CV_RETURN_IF_ERROR(Allow(call, Action::kManageUsers, name));
  if (!deps_.may_sign()) return UnavailableError("the CA cannot sign now");
  Principal who = call.who;
  Bytes csr = request.body;
  return RunOnCa(
      call, "user-add", name, [who, name, role, csr](CaInstance& ca) { return AddOperator(ca, who, name, role, csr); },
      reply);
}

// Config: GET the ca.toml in force on disk, POST a whole new one.
Status AdminService::Config(const HttpRequest& request, Call& call, HttpReply& reply) {
  bool post = request.method == "POST";
  if (post && request.too_large) return ResourceExhaustedError("request body too large ([server] max_body_bytes)");
  CV_RETURN_IF_ERROR(Allow(call, Action::kConfigure, "ca.toml"));
  if (!post) {
    return RunOnCa(
        call, "config-read", "ca.toml", [](CaInstance& ca) { return ReadText(ca.config().dir + "/ca.toml"); }, reply);
  }
  std::string text(request.body.begin(), request.body.end());
  Principal who = call.who;
  std::function<Status()> reload = deps_.reload_server;
  return RunOnCa(
      call, "config-change", "ca.toml",
      [who, text, reload](CaInstance& ca) { return ChangeConfig(ca, who, text, reload); }, reply);
}

// Rollover: CaInstance::Rollover, which records "rollover" with the actor.
// This process keeps the retired issuing key loaded, so it issues nothing
// more with the old key (rolled_over) until the serve loop has switched.
Status AdminService::Rollover(const std::string& route, Call& call, HttpReply& reply) {
  bool root = route == "rollover/root";
  CV_RETURN_IF_ERROR(Allow(call, Action::kRotateKeys, root ? "root and issuing keys" : "issuing key"));
  if (!deps_.may_sign()) return UnavailableError("the CA cannot sign now");
  AuditActor actor = ActorOf(call.who);
  std::function<void()> rolled = deps_.rolled_over;
  return RunOnCa(
      call, "rollover", root ? "root" : "issuing",
      [root, actor, rolled](CaInstance& ca) { return RollOver(ca, root, actor, rolled); }, reply);
}

// AuditVerify: CaInstance::VerifyAudit with the instance's audit key; the
// request itself is recorded after the check (it is not part of what was
// checked).
Status AdminService::AuditVerify(Call& call, HttpReply& reply) {
  CV_RETURN_IF_ERROR(Allow(call, Action::kVerifyAudit, "audit"));
  CV_RETURN_IF_ERROR(RunOnCa(call, "audit-verify", "audit", VerifyChain, reply));
  std::string result(reply.body.begin(), reply.body.end());
  if (!result.empty() && result.back() == '\n') result.pop_back();
  std::lock_guard<std::mutex> lock(db_mu_);
  return roles_.RecordEvent(call.who, "audit-verify", "audit", result);
}

// AuditExport: the chained records at or after `since` (seconds since the
// epoch), as JSON lines in the format of `certvault-ca audit export`.
Status AdminService::AuditExport(const std::string& since_text, Call& call, HttpReply& reply) {
  int64_t since = 0;
  if (!since_text.empty()) {
    if (since_text.size() > 12 || since_text.find_first_not_of("0123456789") != std::string::npos) {
      return InvalidArgumentError("export/SINCE: seconds since the epoch");
    }
    since = std::stoll(since_text);
  }
  CV_RETURN_IF_ERROR(Allow(call, Action::kExportAudit, "audit"));
  std::lock_guard<std::mutex> lock(db_mu_);
  std::string out;
  int64_t n = 0;
  CV_RETURN_IF_ERROR(deps_.db->ReadAuditChain(1, since, [&](const AuditEvent& e) {
    out += AuditRecordJson(e) + "\n";
    ++n;
    return OkStatus();
  }));
  CV_RETURN_IF_ERROR(roles_.RecordEvent(call.who, "audit-export", "audit",
                                        "since=" + std::to_string(since) + " records=" + std::to_string(n)));
  reply.status = 200;
  reply.content_type = "application/jsonl";
  reply.body.assign(out.begin(), out.end());
  return OkStatus();
}

}  // namespace certvault::ca
