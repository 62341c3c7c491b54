// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault quorum init|request|approve, backup, restore, zeroize
// (docs/design/quorum.md, docs/cli.md). Embedded mode: these verbs open the
// vault and the custodian tokens in this process (src/quorum/); in daemon
// mode `quorum approve` hands the sealed approval to certvaultd, and the
// other verbs refuse while certvaultd runs (RefuseIfDaemonOwnsVault).
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <memory>

#include "cli/command_context.h"
#include "cli/output.h"
#include "cli/pin.h"
#include "src/base/status_macros.h"
#include "src/core/auth.h"
#include "src/core/config.h"
#include "src/core/embedded_backend.h"
#include "src/core/policy_pin.h"
#include "src/core/quorum_flag.h"
#include "src/ipc/daemon_backend.h"
#include "src/ipc/open_backend.h"
#include "src/policy/custody.h"
#include "src/quorum/backup.h"
#include "src/quorum/custodian.h"
#include "src/quorum/events.h"
#include "src/quorum/quorum.h"
#include "src/quorum/quorum_internal.h"

namespace certvault::cli {
namespace {

// Vault: the embedded vault of --vault with its store.
struct Vault {
  std::unique_ptr<Backend> backend;
  core::EmbeddedBackend* embedded = nullptr;
  storage::Store* store = nullptr;
};

// DaemonAnswers: whether something accepts connections on the Unix socket
// `path` (a running certvaultd).
bool DaemonAnswers(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) return true;  // cannot check: assume it runs
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return true;
  const bool answers = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return answers;
}

// RefuseIfDaemonOwnsVault: these verbs open vault.db in this process. In
// daemon mode ($CERTVAULT_SOCKET or [daemon] socket) with certvaultd
// running, the vault is certvaultd's: it is never opened behind its back
// (docs/design/quorum.md "Daemon mode"). A configured socket that nobody
// answers means certvaultd is stopped, and the file is free.
Status RefuseIfDaemonOwnsVault(Context& ctx) {
  BackendOptions options;
  options.vault_dir = ctx.args->Get("vault").value_or("");
  CV_ASSIGN_OR_RETURN(std::string socket, DaemonSocketFor(options));
  if (socket.empty() || !DaemonAnswers(socket)) return OkStatus();
  return FailedPreconditionError("certvault " + ctx.args->verb() + " opens vault.db in its own process, but " +
                                 "certvaultd at " + socket + " owns this vault: stop certvaultd, run it as the " +
                                 "vault's owner, then start certvaultd again (only quorum approve and the guarded " +
                                 "key operations go through the daemon)");
}

Result<Vault> OpenVault(Context& ctx) {
  CV_RETURN_IF_ERROR(RefuseIfDaemonOwnsVault(ctx));
  Vault v;
  BackendOptions options;
  options.vault_dir = ctx.vault_dir;
  CV_ASSIGN_OR_RETURN(v.backend, OpenEmbeddedBackend(options));
  v.embedded = dynamic_cast<core::EmbeddedBackend*>(v.backend.get());
  if (v.embedded == nullptr) return FailedPreconditionError("quorum verbs run on an embedded vault");
  Result<storage::Store*> store = v.embedded->MaintenanceStore();
  if (!store.ok()) return Status(Reason::kTokenNotPresent, "no vault at " + ctx.vault_dir);
  v.store = *store;
  return v;
}

// PickToken: --token as a label, serial or slot number.
Result<storage::TokenId> PickToken(Context& ctx, storage::Store& store) {
  std::optional<std::string> want = ctx.args->Get("token");
  CV_ASSIGN_OR_RETURN(std::vector<storage::TokenRow> tokens, store.ListTokens());
  for (const storage::TokenRow& t : tokens) {
    if (!want || t.label == *want || t.serial == *want || std::to_string(t.token_id) == *want) return t.token_id;
  }
  return Status(Reason::kTokenNotPresent, want ? "no token '" + *want + "'" : "the vault has no token");
}

// SoTokenKey: the token key, from the SO PIN (counted like a login).
Result<SecretBytes> SoTokenKey(Context& ctx, Vault& v, storage::TokenId token) {
  CV_ASSIGN_OR_RETURN(SecretBytes so_pin, ObtainPin(*ctx.args, PinKind::kSo));
  Result<SecretBytes> key = v.embedded->UnlockTokenKey(token, UserType::kSo, so_pin);
  if (!key.ok()) {
    (void)quorum::RecordEvent(*v.store, token, nullptr, "public", "login", quorum::ResultName(key.status()),
                              "as so (" + ctx.args->verb() + ")");
  }
  return key;
}

// UserTokenKey: the token key, from the user PIN (SO PIN reset: the SO's is lost).
Result<SecretBytes> UserTokenKey(Context& ctx, Vault& v, storage::TokenId token) {
  CV_ASSIGN_OR_RETURN(SecretBytes pin, ObtainPin(*ctx.args, PinKind::kUser));
  return v.embedded->UnlockTokenKey(token, UserType::kUser, pin);
}

// OpenCustodians: each --custodian DIR opened with its PIN: the i-th
// --custodian-pin-file, else --pin / --pin-file / CERTVAULT_PIN / a prompt.
Result<std::vector<std::unique_ptr<quorum::Custodian>>> OpenCustodians(Context& ctx) {
  std::vector<std::string> dirs = ctx.args->GetAll("custodian");
  std::vector<std::string> files = ctx.args->GetAll("custodian-pin-file");
  if (dirs.empty()) return InvalidArgumentError("name the custodians with --custodian DIR");
  std::vector<std::unique_ptr<quorum::Custodian>> out;
  for (size_t i = 0; i < dirs.size(); ++i) {
    Result<SecretBytes> pin = i < files.size() ? ReadPinFile(files[i]) : ObtainPin(*ctx.args, PinKind::kUser);
    CV_RETURN_IF_ERROR(pin.status());
    Result<std::unique_ptr<quorum::Custodian>> c = quorum::Custodian::Open(dirs[i], "", *pin);
    if (!c.ok()) return c.status().Annotate("custodian " + dirs[i]);
    out.push_back(std::move(*c));
  }
  return out;
}

std::vector<quorum::Custodian*> Raw(const std::vector<std::unique_ptr<quorum::Custodian>>& cs) {
  std::vector<quorum::Custodian*> out;
  for (const auto& c : cs) out.push_back(c.get());
  return out;
}

Result<std::string> Need(Context& ctx, std::string_view name) {
  std::optional<std::string> v = ctx.args->Get(name);
  if (!v) return InvalidArgumentError("--" + std::string(name) + " is required");
  return *v;
}

// Authorize: the quorum approval of --op ID for `op`; a token without a
// quorum needs none when `optional`.
Result<bool> Authorize(Context& ctx, Vault& v, storage::TokenId token, const SecretBytes& tk, const std::string& op,
                       bool optional) {
  CV_ASSIGN_OR_RETURN(std::optional<quorum::QuorumConfig> config, quorum::LoadQuorum(*v.store, token, tk));
  if (!config) {
    if (optional) return false;
    return FailedPreconditionError("the token has no quorum (certvault quorum init)");
  }
  std::optional<std::string> id = ctx.args->Get("op");
  if (!id) return PermissionDeniedError("this operation needs the quorum: certvault quorum request --op " + op);
  CV_ASSIGN_OR_RETURN(SecretBytes secret, quorum::AuthorizeOp(*v.store, token, tk, *id, op));
  return true;  // the quorum secret is wiped here: it has served its one operation
}

// PinCurrentPolicy: pins the policy this vault runs with ([vault] policy of
// its configuration) as the one the token's quorum approved.
Status PinCurrentPolicy(Context& ctx, Vault& v, storage::TokenId token, const SecretBytes& tk) {
  CV_ASSIGN_OR_RETURN(core::Config config, core::LoadConfig(ctx.vault_dir, ""));
  CV_ASSIGN_OR_RETURN(Bytes digest, core::PolicyDigest(config.policy_path));
  return core::PinPolicy(*v.store, token, tk, digest);
}

Status QuorumInit(Context& ctx) {
  CV_ASSIGN_OR_RETURN(Vault v, OpenVault(ctx));
  CV_ASSIGN_OR_RETURN(storage::TokenId token, PickToken(ctx, *v.store));
  CV_ASSIGN_OR_RETURN(std::string k_text, Need(ctx, "k"));
  int k = std::atoi(k_text.c_str());
  CV_ASSIGN_OR_RETURN(SecretBytes tk, SoTokenKey(ctx, v, token));
  CV_ASSIGN_OR_RETURN(auto custodians, OpenCustodians(ctx));
  if (std::optional<std::string> n = ctx.args->Get("n"); n && std::to_string(custodians.size()) != *n) {
    return InvalidArgumentError("--n " + *n + " but " + std::to_string(custodians.size()) + " custodians named");
  }
  if (k < 2 || static_cast<size_t>(k) > custodians.size()) return InvalidArgumentError("need 2 <= k <= n");
  if (const kmpolicy::Policy* policy = v.embedded->KmPolicy()) {  // policy.toml [quorum], before anything is written
    CV_RETURN_IF_ERROR(kmpolicy::CheckQuorum(*policy, static_cast<uint32_t>(k), custodians.size()));
  }
  CV_ASSIGN_OR_RETURN(bool resharing, Authorize(ctx, v, token, tk, "reshare", /*optional=*/true));
  CV_ASSIGN_OR_RETURN(quorum::QuorumConfig config,
                      quorum::InitQuorum(*v.store, token, tk, static_cast<uint8_t>(k), Raw(custodians), resharing));
  CV_RETURN_IF_ERROR(PinCurrentPolicy(ctx, v, token, tk));  // the policy in force is the approved one
  *ctx.out << (resharing ? "re-shared" : "quorum") << " " << int(config.k) << "-of-" << int(config.n) << " id "
           << quorum::HexOf(config.quorum_id) << " epoch " << config.epoch << "\n";
  return OkStatus();
}

Status QuorumRequest(Context& ctx) {
  CV_ASSIGN_OR_RETURN(Vault v, OpenVault(ctx));
  CV_ASSIGN_OR_RETURN(storage::TokenId token, PickToken(ctx, *v.store));
  CV_ASSIGN_OR_RETURN(std::string op, Need(ctx, "op"));
  int64_t ttl = quorum::kDefaultApprovalSeconds;
  if (std::optional<std::string> t = ctx.args->Get("ttl")) ttl = std::atoll(t->c_str());
  // An SO PIN reset is requested with the user PIN: the SO PIN is what was lost.
  CV_ASSIGN_OR_RETURN(SecretBytes tk, op == "so-pin-reset" ? UserTokenKey(ctx, v, token) : SoTokenKey(ctx, v, token));
  CV_ASSIGN_OR_RETURN(std::string id, quorum::RequestOp(*v.store, token, tk, op, ttl));
  *ctx.out << id << "\n";
  return OkStatus();
}

// ApproveThroughDaemon: the approval of `c` sent to certvaultd on `socket`,
// which checks and stores it (the CLI need not read vault.db): the
// custodian's share is sealed here, to the operation's key.
Status ApproveThroughDaemon(Context& ctx, const BackendOptions& options, const std::string& id, quorum::Custodian& c) {
  CV_ASSIGN_OR_RETURN(std::unique_ptr<Backend> backend, OpenBackend(options));
  auto* daemon = dynamic_cast<ipc::DaemonBackend*>(backend.get());
  if (daemon == nullptr) return InternalError("daemon mode without a certvaultd client");
  CV_ASSIGN_OR_RETURN(Bytes ticket, daemon->QuorumApprovalTicket(id));
  Result<Bytes> approval = quorum::SealApproval(ticket, c);
  if (!approval.ok()) {
    return PermissionDeniedError("op=" + id + " custodian=" + c.name() + ": " +
                                 std::string(approval.status().message()));
  }
  CV_ASSIGN_OR_RETURN(auto state, daemon->QuorumStoreApproval(id, *approval));
  c.Record("custodian_approve", "ok", "op=" + id + " through certvaultd");
  *ctx.out << "approved: " << state.first << " of " << state.second << "\n";
  return OkStatus();
}

Status QuorumApprove(Context& ctx) {
  CV_ASSIGN_OR_RETURN(std::string id, Need(ctx, "op"));
  CV_ASSIGN_OR_RETURN(auto custodians, OpenCustodians(ctx));
  if (custodians.size() != 1) return InvalidArgumentError("one --custodian approves at a time");
  BackendOptions options;
  options.vault_dir = ctx.args->Get("vault").value_or("");
  CV_ASSIGN_OR_RETURN(std::string socket, DaemonSocketFor(options));
  if (!socket.empty()) return ApproveThroughDaemon(ctx, options, id, *custodians[0]);
  CV_ASSIGN_OR_RETURN(Vault v, OpenVault(ctx));
  CV_ASSIGN_OR_RETURN(quorum::ApprovalState state, quorum::ApproveOp(*v.store, id, *custodians[0]));
  *ctx.out << "approved: " << state.approvals << " of " << int(state.k) << "\n";
  return OkStatus();
}

Status QuorumSoPinReset(Context& ctx) {
  CV_ASSIGN_OR_RETURN(Vault v, OpenVault(ctx));
  CV_ASSIGN_OR_RETURN(storage::TokenId token, PickToken(ctx, *v.store));
  CV_ASSIGN_OR_RETURN(std::string id, Need(ctx, "op"));
  CV_ASSIGN_OR_RETURN(SecretBytes tk, UserTokenKey(ctx, v, token));
  CV_ASSIGN_OR_RETURN(SecretBytes secret, quorum::AuthorizeOp(*v.store, token, tk, id, "so-pin-reset"));
  CV_ASSIGN_OR_RETURN(SecretBytes new_pin, ObtainPin(*ctx.args, PinKind::kNewSo));
  CV_RETURN_IF_ERROR(quorum::ResetSoPin(*v.store, token, tk, new_pin));
  *ctx.out << "the SO PIN of token " << token << " is reset\n";
  return OkStatus();
}

// QuorumPolicy: the policy the vault now runs with becomes the approved one
// (an approved `policy` operation, SO PIN).
Status QuorumPolicy(Context& ctx) {
  CV_ASSIGN_OR_RETURN(Vault v, OpenVault(ctx));
  CV_ASSIGN_OR_RETURN(storage::TokenId token, PickToken(ctx, *v.store));
  CV_ASSIGN_OR_RETURN(SecretBytes tk, SoTokenKey(ctx, v, token));
  CV_ASSIGN_OR_RETURN(bool guarded, Authorize(ctx, v, token, tk, "policy", /*optional=*/false));
  (void)guarded;
  CV_RETURN_IF_ERROR(PinCurrentPolicy(ctx, v, token, tk));
  CV_RETURN_IF_ERROR(
      quorum::RecordEvent(*v.store, token, &tk, "so", "policy_approved", "ok", "approved by the quorum"));
  *ctx.out << "token " << token << ": the vault's current policy is approved\n";
  return OkStatus();
}

// QuorumAuditConfig: turns the token's event log flag on or off
// (kTokenFlagEventLog: the token must keep its signed audit keys, so a
// removed key is detected; `policy check` reads it for [audit]). SO PIN, and
// on a token with a quorum an approved `audit-config` operation.
Status QuorumAuditConfig(Context& ctx) {
  CV_ASSIGN_OR_RETURN(std::string value, Need(ctx, "event-log"));
  if (value != "on" && value != "off") return InvalidArgumentError("--event-log on|off");
  CV_ASSIGN_OR_RETURN(Vault v, OpenVault(ctx));
  CV_ASSIGN_OR_RETURN(storage::TokenId token, PickToken(ctx, *v.store));
  CV_ASSIGN_OR_RETURN(SecretBytes tk, SoTokenKey(ctx, v, token));
  // With the flag a token without audit keys counts as one whose keys were
  // removed (core/event_recorder.cc): never set it on such a token. Checked
  // before the approval is spent.
  CV_ASSIGN_OR_RETURN(std::vector<storage::AuditKeyRow> keys, v.store->ListAuditKeys(token));
  if (value == "on" && keys.empty()) {
    return FailedPreconditionError("the token has no audit key yet: open it once with the event log enabled");
  }
  CV_ASSIGN_OR_RETURN(bool guarded, Authorize(ctx, v, token, tk, "audit-config", /*optional=*/true));
  const std::string detail = "event-log " + value + (guarded ? ", approved by the quorum" : ", SO PIN (no quorum)");
  CV_RETURN_IF_ERROR(v.store->RunExclusive([&]() -> Status {  // the change and its event commit together
    CV_RETURN_IF_ERROR(core::SetTokenFlag(*v.store, token, tk, core::kTokenFlagEventLog, value == "on"));
    return quorum::RecordEvent(*v.store, token, &tk, "so", "audit_config", "ok", detail);
  }));
  *ctx.out << "token " << token << ": event log " << value << "\n";
  return OkStatus();
}

// QuorumStatus: the quorum record as stored (no PIN, so not verified) and
// the operations with their approvals.
Status QuorumStatus(Context& ctx) {
  CV_ASSIGN_OR_RETURN(Vault v, OpenVault(ctx));
  CV_ASSIGN_OR_RETURN(storage::TokenId token, PickToken(ctx, *v.store));
  Result<quorum::QuorumConfig> config = quorum::internal::PeekQuorum(*v.store, token);
  if (!config.ok()) {
    *ctx.out << "token " << token << ": no quorum\n";
    return OkStatus();
  }
  *ctx.out << "token " << token << ": " << int(config->k) << "-of-" << int(config->n) << " quorum "
           << quorum::HexOf(config->quorum_id) << " epoch " << config->epoch << " (unverified: no PIN given)\n";
  for (const quorum::CustodianEntry& c : config->custodians)
    *ctx.out << "  custodian " << int(c.x) << ": " << c.name << "\n";
  CV_ASSIGN_OR_RETURN(auto rows, v.store->ListMetaRows(quorum::internal::Prefix(token) + "op/"));
  for (const auto& [key, value] : rows) {
    const std::string rest = key.substr(quorum::internal::Prefix(token).size() + 3);
    if (rest.size() == 32)
      *ctx.out << "  operation " << rest << "\n";
    else if (rest.find("/approval/") != std::string::npos)
      *ctx.out << "    approved by custodian " << rest.substr(42) << "\n";
    else if (rest.ends_with("/done"))
      *ctx.out << "    done\n";
  }
  return OkStatus();
}

}  // namespace

Status CmdQuorum(Context& ctx) {
  const std::vector<std::string>& pos = ctx.args->positional();
  const std::string sub = pos.empty() ? "" : pos[0];
  if (sub == "init") return QuorumInit(ctx);
  if (sub == "request") return QuorumRequest(ctx);
  if (sub == "approve") return QuorumApprove(ctx);
  if (sub == "so-pin-reset") return QuorumSoPinReset(ctx);
  if (sub == "status") return QuorumStatus(ctx);
  if (sub == "policy") return QuorumPolicy(ctx);
  if (sub == "audit-config") return QuorumAuditConfig(ctx);
  return InvalidArgumentError(
      "usage: certvault quorum init|request|approve|so-pin-reset|policy|audit-config|status ...");
}

Status CmdBackup(Context& ctx) {
  CV_ASSIGN_OR_RETURN(std::string out, Need(ctx, "out"));
  CV_ASSIGN_OR_RETURN(Vault v, OpenVault(ctx));
  CV_ASSIGN_OR_RETURN(storage::TokenId token, PickToken(ctx, *v.store));
  CV_ASSIGN_OR_RETURN(SecretBytes tk, SoTokenKey(ctx, v, token));
  CV_ASSIGN_OR_RETURN(bool guarded, Authorize(ctx, v, token, tk, "backup", /*optional=*/false));
  (void)guarded;
  CV_ASSIGN_OR_RETURN(std::optional<quorum::QuorumConfig> config, quorum::LoadQuorum(*v.store, token, tk));
  quorum::BackupSummary summary;
  CV_ASSIGN_OR_RETURN(Bytes archive, quorum::CreateBackup(*v.store, token, tk, *config, &summary));
  CV_RETURN_IF_ERROR(WriteFileAtomic(out, archive, 0600));
  *ctx.out << "backup of token " << summary.label << " (serial " << summary.serial << "): " << summary.objects
           << " objects, " << summary.bytes << " bytes -> " << out << "\n";
  return OkStatus();
}

namespace {

// RestoreOverwrite: restore --overwrite: the archive replaces the token in
// its slot of --vault, with that token's SO PIN and its quorum's approval of
// `restore` (--op ID), in the restore's one transaction.
Status RestoreOverwrite(Context& ctx, const Bytes& archive, const quorum::ArchiveInfo& info) {
  CV_ASSIGN_OR_RETURN(std::string id, Need(ctx, "op"));
  CV_ASSIGN_OR_RETURN(Vault v, OpenVault(ctx));
  const storage::TokenId token = info.summary.token;
  if (!v.store->GetToken(token).ok()) {
    return Status(Reason::kTokenNotPresent, "the vault has no token " + std::to_string(token) + " to overwrite");
  }
  CV_ASSIGN_OR_RETURN(SecretBytes tk, SoTokenKey(ctx, v, token));
  CV_ASSIGN_OR_RETURN(auto custodians, OpenCustodians(ctx));
  quorum::RestoreOptions options;
  options.overwrite = true;
  options.authorize = [&]() { return Authorize(ctx, v, token, tk, "restore", /*optional=*/false).status(); };
  CV_ASSIGN_OR_RETURN(quorum::BackupSummary s, quorum::RestoreBackup(*v.store, archive, Raw(custodians), options));
  *ctx.out << "restored token " << s.label << " (serial " << s.serial << ", slot " << s.token << ") over the token "
           << "that was there: " << s.objects << " objects\n";
  return OkStatus();
}

}  // namespace

Status CmdRestore(Context& ctx) {
  const std::vector<std::string>& pos = ctx.args->positional();
  if (pos.size() != 1) return InvalidArgumentError("usage: certvault restore ARCHIVE --vault DIR --custodian DIR...");
  CV_ASSIGN_OR_RETURN(Bytes archive, ReadFile(pos[0], size_t{1} << 31));
  CV_ASSIGN_OR_RETURN(quorum::ArchiveInfo info, quorum::InspectArchive(archive));
  if (ctx.args->Has("overwrite")) return RestoreOverwrite(ctx, archive, info);
  CV_RETURN_IF_ERROR(RefuseIfDaemonOwnsVault(ctx));
  CV_ASSIGN_OR_RETURN(auto custodians, OpenCustodians(ctx));
  if (mkdir(ctx.vault_dir.c_str(), 0700) != 0 && errno != EEXIST)
    return UnavailableError("cannot create " + ctx.vault_dir);
  storage::StoreOptions options;
  options.create_if_missing = true;
  CV_ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store, storage::OpenStore(ctx.vault_dir + "/vault.db", options));
  CV_ASSIGN_OR_RETURN(quorum::BackupSummary s, quorum::RestoreBackup(*store, archive, Raw(custodians)));
  *ctx.out << "restored token " << s.label << " (serial " << s.serial << ", slot " << s.token << "): " << s.objects
           << " objects\n";
  return OkStatus();
}

Status CmdZeroize(Context& ctx) {
  CV_ASSIGN_OR_RETURN(Vault v, OpenVault(ctx));
  CV_ASSIGN_OR_RETURN(storage::TokenId token, PickToken(ctx, *v.store));
  CV_ASSIGN_OR_RETURN(SecretBytes tk, SoTokenKey(ctx, v, token));
  CV_ASSIGN_OR_RETURN(bool guarded, Authorize(ctx, v, token, tk, "zeroize", /*optional=*/true));
  CV_RETURN_IF_ERROR(quorum::RecordEvent(*v.store, token, &tk, "so", "zeroize", "ok",
                                         guarded ? "approved by the quorum" : "SO PIN (no quorum)"));
  CV_RETURN_IF_ERROR(v.store->ZeroizeToken(token));
  *ctx.out << "token " << token << " zeroized: its token key and every sealed copy are destroyed\n";
  return OkStatus();
}

}  // namespace certvault::cli
