// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "cli/commands.h"

#include <unistd.h>

#include <cstdlib>

#include "cli/command_context.h"
#include "cli/output.h"
#include "src/base/status_macros.h"
#include "src/base/vault_perms.h"
#include "src/quorum/quorum.h"

namespace certvault::cli {
namespace {

const std::vector<CommandDef>& Commands() {
  static const std::vector<CommandDef> kCommands = {
      {"init", "init --label L [--so-pin S] [--pin P] [--capacity N] [--pin-must-change] [--mode user|vendor --vendor-cert F]",
       {{"label"}, {"capacity"}, {"pin-must-change", false}, {"mode"}, {"vendor-cert"}}, CmdInit},
      {"identity", "identity show | identity csr --subject /CN=... [--out F] | identity import FILE  [--token L]",
       {{"token"}, {"subject"}, {"out"}}, CmdIdentity},
      {"update-request", "update-request [--token L] [--label K] --out F", {{"token"}, {"label"}, {"out"}},
       CmdUpdateRequest},
      {"apply-update", "apply-update FILE [--token L] [--receipt-out F]", {{"token"}, {"receipt-out"}}, CmdApplyUpdate},
      {"attest", "attest --key K [--id HEX] [--out F]", {{"token"}, {"key"}, {"id"}, {"out"}}, CmdAttest},
      {"tokens", "tokens [--json]", {}, CmdTokens},
      {"info", "info [--token L] [--json]", {{"token"}}, CmdInfo},
      {"list", "list [--token L] [--login] [--json]", {{"token"}, {"login", false}}, CmdList},
      {"keygen", "keygen [--token L] --label K --type rsa:2048|rsa:3072|rsa:4096|ec:p256|ec:p384|ec:p521|ed25519|ed448 [--id HEX] [--op ID]",
       {{"token"}, {"label"}, {"type"}, {"id"}, {"op"}}, CmdKeygen},
      {"csr", "csr --key K [--id HEX] --subject /CN=.../O=... [--san DNS:x]... [--attest] [--out F]",
       {{"token"}, {"key"}, {"id"}, {"subject"}, {"san", true, true}, {"attest", false}, {"out"}}, CmdCsr},
      {"selfsign", "selfsign --key K --subject ... [--days N] [--ca] [--san ...]... --out F [--store]",
       {{"token"}, {"key"}, {"id"}, {"subject"}, {"san", true, true}, {"days"}, {"ca", false}, {"out"}, {"store", false},
        {"eku", true, true}},
       CmdSelfsign},
      {"import-cert", "import-cert FILE [--token L] [--label L]", {{"token"}, {"label"}}, CmdImportCert},
      {"import-p12", "import-p12 FILE [--token L] [--label L] [--p12-pass P | --p12-pass-file F]",
       {{"token"}, {"label"}, {"p12-pass"}, {"p12-pass-file"}}, CmdImportP12},
      {"export-cert", "export-cert --cert X [--id HEX] [--der] [--out F]", {{"token"}, {"cert"}, {"id"}, {"der", false}, {"out"}},
       CmdExportCert},
      {"export-pubkey", "export-pubkey --key K [--id HEX] [--out F]", {{"token"}, {"key"}, {"id"}, {"out"}}, CmdExportPubkey},
      {"export-keyref", "export-keyref --key K [--id HEX] [--out F]", {{"token"}, {"key"}, {"id"}, {"out"}},
       CmdExportKeyref},
      {"key", "key state --key K [--id HEX] --set pre-activation|active|suspended|deactivated|compromised|destroyed [--reason TEXT]",
       {{"token"}, {"key"}, {"id"}, {"set"}, {"reason"}}, CmdKey},
      {"delete", "delete --object X [--id HEX] [--type cert|privkey|pubkey|all] [--op ID]",
       {{"token"}, {"object"}, {"id"}, {"type"}, {"op"}}, CmdDelete},
      {"change-pin", "change-pin [--token L] [--so] [--new-pin P | --new-pin-file F]",
       {{"token"}, {"so", false}, {"new-pin"}, {"new-pin-file"}}, CmdChangePin},
      {"unlock", "unlock [--token L] [--so-pin S] [--new-pin P | --new-pin-file F]",
       {{"token"}, {"new-pin"}, {"new-pin-file"}}, CmdUnlock},
      {"enroll", "enroll --server URL --key K --profile P --subject ... [--san ...]... (--trust F | --trust-fingerprint SHA256) (--enroll-code-file F | --auth-cert CERT) [--type T] [--protocol est|cmp] [--provider-module F] [--attest] [--server-keygen [--package-out F] [--receipt-out F]] [--json]",
       {{"token"}, {"server"}, {"key"}, {"profile"}, {"subject"}, {"san", true, true}, {"trust"}, {"trust-fingerprint"},
        {"enroll-code-file"}, {"auth-cert"}, {"type"}, {"protocol"}, {"provider-module"}, {"attest", false},
        {"server-keygen", false}, {"package-out"}, {"receipt-out"}}, CmdEnroll},
      {"renew", "renew --server URL --cert LABEL (--trust F | --trust-fingerprint SHA256) [--protocol est|cmp] [--profile P] [--rekey [--type T]] [--provider-module F] [--json]",
       {{"token"}, {"server"}, {"cert"}, {"trust"}, {"trust-fingerprint"}, {"protocol"}, {"profile"}, {"rekey", false},
        {"type"}, {"provider-module"}}, CmdRenew},
      {"revoke", "revoke --server http[s]://HOST:PORT --cert LABEL --trust F [--reason R] [--provider-module F] [--json]",
       {{"token"}, {"server"}, {"cert"}, {"trust"}, {"reason"}, {"provider-module"}}, CmdRevoke},
      {"ca-certs", "ca-certs --server URL (--trust F | --trust-fingerprint SHA256) [--out F] [--json]",
       {{"server"}, {"trust"}, {"trust-fingerprint"}, {"out"}}, CmdCaCerts, false},
      {"selftest", "selftest [--json]", {}, CmdSelftest, false},
      {"policy", "policy check [--token T] [--json]", {{"token"}}, CmdPolicy, false},
      {"audit", "audit [--token L] [--verify] [--key-fingerprint HEX] [--checkpoint SEQ:HEAD] [--json]",
       {{"token"}, {"verify", false}, {"key-fingerprint"}, {"checkpoint"}}, CmdAudit, false},
      {"quorum", "quorum init --token T --k K [--n N] --custodian DIR... [--custodian-pin-file F]... [--op ID] | "
                 "quorum request --token T --op OP [--ttl S] | quorum approve --op ID --custodian DIR | "
                 "quorum so-pin-reset --token T --op ID [--new-pin P | --new-pin-file F] | quorum policy --token T --op ID | "
                 "quorum audit-config --token T --event-log on|off [--op ID] | quorum status [--token T]",
       {{"token"}, {"k"}, {"n"}, {"custodian", true, true}, {"custodian-pin-file", true, true}, {"op"}, {"ttl"},
        {"new-pin"}, {"new-pin-file"}, {"event-log"}},
       CmdQuorum, false},
      {"backup", "backup --token T --out FILE --op ID", {{"token"}, {"out"}, {"op"}}, CmdBackup, false},
      {"restore", "restore ARCHIVE --custodian DIR... [--custodian-pin-file F]... [--overwrite --op ID]",
       {{"custodian", true, true}, {"custodian-pin-file", true, true}, {"overwrite", false}, {"op"}}, CmdRestore, false},
      {"zeroize", "zeroize --token T [--op ID]", {{"token"}, {"op"}}, CmdZeroize, false},
  };
  return kCommands;
}

const CommandDef* FindCommand(std::string_view verb) {
  for (const CommandDef& def : Commands()) {
    if (def.name == verb) return &def;
  }
  return nullptr;
}

const std::vector<OptionSpec>* SpecsFor(std::string_view verb) {
  const CommandDef* def = FindCommand(verb);
  return def != nullptr ? &def->options : nullptr;
}

void PrintUsage(std::ostream& os) {
  os << "usage: certvault [--vault DIR] [--json] VERB [options]\n\nverbs:\n";
  for (const CommandDef& def : Commands()) os << "  " << def.usage << "\n";
  os << "\nPINs: --pin/--pin-file/CERTVAULT_PIN (user), --so-pin/--so-pin-file/CERTVAULT_SO_PIN (SO),\n"
        "      or a prompt on the terminal. PIN files must be mode 600. New PINs: user >= 6, SO >= 8\n"
        "      characters (configurable); --allow-weak-pin accepts 4 (tests, numeric-PIN devices).\n"
        "Objects: a label, --id HEX, or a pkcs11: URI.\n"
        "Exit codes: 0 ok, 1 usage, 2 not found, 3 auth/PIN, 4 vault/IO, 5 refused by policy.\n";
}

int ReportError(std::ostream& err, const Status& status) {
  err << "certvault: error: " << status.message() << "\n";
  return ExitCodeFor(status);
}

}  // namespace

std::string ResolveVaultDir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* home = std::getenv("CERTVAULT_HOME"); home != nullptr && *home != '\0') return home;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') return std::string(xdg) + "/certvault";
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.local/share/certvault";
}

namespace {

Result<SecretBytes> LoginPin(Context& ctx, UserType user, ObjectSelector* sel) {
  if (sel != nullptr && sel->pin.has_value()) return std::move(*sel->pin);
  if (sel != nullptr && sel->pin_source.has_value()) {
    std::string path = *sel->pin_source;
    if (path.starts_with("file:")) path = path.substr(5);
    return ReadPinFile(path);
  }
  return ObtainPin(*ctx.args, user == UserType::kSo ? PinKind::kSo : PinKind::kUser);
}

}  // namespace

Result<OpenedToken> OpenToken(Context& ctx, const std::optional<std::string>& label, bool read_write, bool login,
                              UserType user, ObjectSelector* sel) {
  CV_ASSIGN_OR_RETURN(TokenRef token, FindToken(ctx.backend, label));
  CV_ASSIGN_OR_RETURN(Session session, Session::Open(ctx.backend, token.slot, read_write));
  if (login) {
    CV_ASSIGN_OR_RETURN(SecretBytes pin, LoginPin(ctx, user, sel));
    CV_RETURN_IF_ERROR(session.Login(user, pin));
  }
  return OpenedToken{std::move(token), std::move(session)};
}

Status WriteOutput(Context& ctx, std::span<const uint8_t> data) {
  if (std::optional<std::string> out = ctx.args->Get("out")) return WriteFileAtomic(*out, data);
  ctx.out->write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  ctx.out->flush();
  return ctx.out->good() ? OkStatus() : UnavailableError("cannot write to standard output");
}

// CheckVaultDir: refuses a group/world-writable vault directory and warns
// about a database others may write (src/base/vault_perms.h).
Status CheckVaultDir(const std::string& dir, std::ostream& err) {
  std::vector<std::string> warnings;
  CV_RETURN_IF_ERROR(CheckVaultPermissions(dir, geteuid(), &warnings));
  for (const std::string& w : warnings) err << "certvault: warning: " << w << "\n";
  return OkStatus();
}

int RunCli(int argc, char** argv, const BackendOpener& open_backend, std::ostream& out, std::ostream& err,
           const VaultDescriber& describe) {
  quorum::InstallQuorumAuthorizer();  // quorum-protected keys (issue 16), whatever the opener
  Result<Args> args = Args::Parse(argc, argv, SpecsFor);
  if (!args.ok()) return ReportError(err, args.status());
  if (args->verb().empty() || args->verb() == "help" || args->Has("help")) {
    PrintUsage(args->verb().empty() ? err : out);
    return args->verb().empty() ? kExitUsage : kExitOk;
  }
  const CommandDef* def = FindCommand(args->verb());
  if (def == nullptr) {
    return ReportError(err, InvalidArgumentError("unknown verb '" + args->verb() + "'; run `certvault help`"));
  }
  BackendOptions options;
  options.vault_dir = args->Get("vault").value_or("");
  options.create_vault = def->name == "init";  // read paths never create files
  options.allow_weak_pin = args->Has("allow-weak-pin");
  const std::string where = describe ? describe(options) : ResolveVaultDir(options.vault_dir);
  std::unique_ptr<Backend> backend;
  if (def->needs_backend) {
    if (def->name == "init" && where == ResolveVaultDir(options.vault_dir)) {  // embedded: the vault is ours
      if (Status perms = CheckVaultDir(where, err); !perms.ok()) return ReportError(err, perms);
    }
    Result<std::unique_ptr<Backend>> opened = open_backend(options);
    if (!opened.ok()) return ReportError(err, opened.status().Annotate("cannot open the vault"));
    backend = std::move(*opened);
  }
  Context ctx{backend.get(), &*args, &out, &err, args->Has("json"), where};
  Status status = def->run(ctx);
  if (!status.ok()) return ReportError(err, status);
  return kExitOk;
}

}  // namespace certvault::cli
