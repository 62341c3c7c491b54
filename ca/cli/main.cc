// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca: the private CA. See docs/design/ca.md.
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "ca/cli/cli.h"
#include "ca/policy/policy_violation.h"
#include "src/base/status_macros.h"

namespace certvault::ca::cli {

int Fail(const Status& status) {
  std::fprintf(stderr, "certvault-ca: %s\n", std::string(status.message()).c_str());
  return 1;
}

int Usage(const std::string& message) {
  std::fprintf(stderr, "certvault-ca: %s\n", message.c_str());
  std::fprintf(stderr,
               "usage: certvault-ca [--dir DIR] [--actor NAME] [--pin-file F] COMMAND ...\n"
               "  init [--external-root] [--name N --token-module M --token-label L ...]\n"
               "                                    write ca.toml from flags (if given), create the CA hierarchy\n"
               "  install-issuing --cert F --root F  install an externally signed issuing CA\n"
               "  backup --out F --token-archive T   the instance in one file (SQLite snapshot, files, token archive)\n"
               "  restore F                          a backup into a new, empty --dir\n"
               "  issue --profile P (--csr F | --batch DIR|-) [--out F | --out-dir D] [--threads N] [--chunk N]\n"
               "  revoke SERIAL... [--reason R] [--invalidity-date EPOCH]\n"
               "  crl [--delta] [--partition N] [--out F] [--pem]\n"
               "  ocsp serve [--port N] [--bind ADDR] [--threads N] [--crl-interval S]   ocsp rotate\n"
               "  rollover [--issuing | --root]      a new issuing key (and with --root a new root) generation\n"
               "  serve [--http-port N] [--https-port N] [--bind ADDR]   server-cert [--san L]   enroll-code --profile P [--cmp]\n"
               "  list [--subject TEXT] [--limit N] [--generation N]   show SERIAL [--pem] [--generation N]\n"
               "  profiles   audit [--limit N]   audit verify|export\n"
               "  user add --name N --role R --csr F   user list   user remove N   role grant|revoke N R\n"
               "  --server URL --trust F --identity pkcs11:token=T;object=K [--pin-file F] [--module P11MODULE] COMMAND   (remote)\n");
  return 2;
}

std::string InstanceDir(const Args& args) {
  std::string dir = args.Get("dir");
  if (dir.empty()) {
    const char* env = std::getenv("CERTVAULT_CA_DIR");
    dir = env != nullptr ? env : ".";
  }
  return dir;
}

namespace {

// RecordBreakGlass: an offline command that logged in to the CA token with
// its PIN (init and the servers are not break-glass).
Status RecordBreakGlass(const Args& args, CaInstance& ca) {
  if (args.command == "init" || args.command == "serve" || args.command == "ocsp serve") return OkStatus();
  std::string what = args.command;
  if (args.Has("name")) what += " " + args.Get("name");
  for (const std::string& p : args.positional) what += " " + p;
  return ca.RecordBreakGlass(ActorOf(args), what);  // audited, and the break-glass alert runs
}

}  // namespace

void AuditRefusedStart(const Args& args, const std::string& dir, const Status& refusal) {
  if (!IsPolicyContradiction(refusal)) return;
  Status recorded = RecordRefusedStart(dir, ActorOf(args), args.command, refusal);
  if (!recorded.ok() && recorded.code() != StatusCode::kNotFound) {
    std::fprintf(stderr, "certvault-ca: the policy violation is not audited: %s\n",
                 std::string(recorded.message()).c_str());
  }
}

Result<std::unique_ptr<CaInstance>> Open(const Args& args, bool token, bool create_db) {
  std::string dir = InstanceDir(args);
  char resolved[PATH_MAX];
  if (realpath(dir.c_str(), resolved) == nullptr) return NotFoundError("no CA directory " + dir);
  Result<std::unique_ptr<CaInstance>> opened = CaInstance::Open(resolved, token, args.Get("pin-file"), create_db);
  if (!opened.ok()) AuditRefusedStart(args, resolved, opened.status());
  CV_ASSIGN_OR_RETURN(std::unique_ptr<CaInstance> inst, std::move(opened));
  if (token && !create_db) CV_RETURN_IF_ERROR(RecordBreakGlass(args, *inst));
  return inst;
}

Result<std::unique_ptr<CaInstance>> OpenForSigning(const Args& args) {
  Result<std::unique_ptr<CaInstance>> inst = Open(args, true);
  if (!inst.ok()) return inst;
  if (Status ready = (*inst)->PrepareToSign(); !ready.ok()) {
    AuditClockRefusal(args, **inst);
    return ready;
  }
  return inst;
}

void AuditClockRefusal(const Args& args, CaInstance& ca) {
  Status clock = ca.CheckClock();
  if (clock.ok()) return;  // refused for another reason (token state, database)
  Status recorded =
      ca.db().AddAudit(MakeAuditEvent(ActorOf(args), "clock-refused", ca.Name(CaRole::kIssuing), args.command,
                                      std::string(clock.message()), std::string(StatusCodeName(clock.code()))));
  if (!recorded.ok()) {
    std::fprintf(stderr, "certvault-ca: the clock refusal is not audited: %s\n",
                 std::string(recorded.message()).c_str());
  }
}

AuditActor ActorOf(const Args& args) {
  static const std::string kRequestId = [] {
    uint8_t raw[8] = {};
    if (RAND_bytes(raw, sizeof(raw)) != 1) return std::string("unknown");
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (uint8_t b : raw) out += {kHex[b >> 4], kHex[b & 15]};
    return out;
  }();
  AuditActor a;
  if (args.Has("actor")) {
    a.identity = args.Get("actor");
  } else {
    struct passwd* pw = getpwuid(getuid());
    a.identity = "local:" + std::to_string(getuid()) + (pw != nullptr ? std::string(":") + pw->pw_name : "");
  }
  a.role = "break-glass";
  a.source = "local";
  a.request_id = kRequestId;
  return a;
}

std::string Actor(const Args& args) {
  if (args.Has("actor")) return args.Get("actor");
  struct passwd* pw = getpwuid(getuid());
  return pw != nullptr ? pw->pw_name : "uid:" + std::to_string(getuid());
}

Result<Bytes> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string s = buf.str();
  return Bytes(s.begin(), s.end());
}

namespace {

// Command line (CLI11): every command declares its options, so an unknown
// option, a missing value or a number that does not parse or is out of range
// is a usage error (exit 2) before anything is opened or signed. Values are
// kept as text in Args (given options only); the commands read them there.
class CommandLine {
 public:
  CommandLine() : app_("certvault-ca: the private CA (see docs/design/ca.md)", "certvault-ca") {
    app_.require_subcommand(1);
    app_.fallthrough();  // the global options may also follow the command
    Text(app_, "dir", "the CA instance directory (default $CERTVAULT_CA_DIR, then .)");
    Text(app_, "actor", "the operator named in the audit events (default: the OS user)");
    Text(app_, "pin-file", "a file (mode 0600) holding the token PIN, instead of ca.toml's");
    Text(app_, "policy", "the policy.toml to enforce, instead of ca.toml's [ca] policy (docs/design/policy.md)");
    Text(app_, "server", "run the command through the admin API of this server (https://HOST:PORT)");
    Text(app_, "identity", "with --server: the operator key, pkcs11:token=T;object=K (PIN in --pin-file)");
    Text(app_, "identity-cert", "with --server: the operator certificate (default: the token's, same label)");
    Text(app_, "trust", "with --server: the CA certificate(s) that authenticate the server (root.pem)");
    Text(app_, "vault", "with --server: the operator's certvault vault (default $CERTVAULT_HOME)");
    Text(app_, "socket", "with --server: reach the operator's vault through certvaultd at this socket");
    Text(app_, "provider-module", "with --server: certvault's OpenSSL provider (certvault.so)");
    Text(app_, "module", "with --server: the PKCS#11 module holding the --identity key (e.g. SoftHSM2) instead of "
                         "certvault; PIN in --pin-file");
    Commands();
  }

  // Parse: 0 when a command should run, else the exit code (help: 0; usage: 2).
  std::optional<int> Parse(int argc, char** argv) {
    try {
      app_.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
      return app_.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
      return app_.exit(e);
    } catch (const CLI::ParseError& e) {
      std::fprintf(stderr, "certvault-ca: %s\n", e.what());
      std::fprintf(stderr, "run 'certvault-ca --help' or 'certvault-ca COMMAND --help' for usage\n");
      return 2;
    }
    for (const auto& [name, option] : options_) {
      if (option->count() > 0) args_.flags[name] = values_[name];
    }
    for (const auto& [name, flag] : switches_) {
      if (*flag) args_.flags[name] = "1";
    }
    for (const auto& [name, values] : lists_) {
      if (!values.empty()) args_.lists[name] = values;
    }
    for (CLI::App* sub : app_.get_subcommands()) {
      command_ = sub->get_name();
      for (CLI::App* subsub : sub->get_subcommands()) command_ += " " + subsub->get_name();
    }
    args_.positional = positional_;
    args_.flags["command"] = command_;
    args_.command = command_;
    return std::nullopt;
  }

  int Run() {
    static const std::map<std::string, int (*)(Args&)> kCommands = {
        {"init", CmdInit},   {"install-issuing", CmdInstallIssuing}, {"issue", CmdIssue},
        {"revoke", CmdRevoke}, {"crl", CmdCrl},                        {"ocsp serve", CmdServe}, {"ocsp rotate", CmdOcspRotate},
        {"rollover", CmdRollover}, {"backup", CmdBackup}, {"restore", CmdRestore},
        {"list", CmdList},   {"show", CmdShow},                       {"profiles", CmdProfiles},
        {"audit", CmdAudit},  {"audit verify", CmdAuditVerify}, {"audit export", CmdAuditExport},
        {"serve", CmdServe},  {"server-cert", CmdServerCert},   {"enroll-code", CmdEnrollCode},
        {"status", CmdStatus}, {"policy report", CmdPolicyReport}, {"provision", CmdProvision},
        {"user add", CmdUserAdd}, {"user list", CmdUserList}, {"user remove", CmdUserRemove},
        {"role grant", CmdRoleGrant}, {"role revoke", CmdRoleRevoke}};
    if (args_.Has("policy")) setenv("CERTVAULT_CA_POLICY", args_.Get("policy").c_str(), 1);  // ApplyPolicy reads it
    if (command_ == "selftest") return CmdSelftest(args_);
    if (int rc = RequireSelfTests(); rc != 0) return rc;  // no signatures from a failed self-test
    if (args_.Has("server")) return CmdRemote(args_, command_);  // docs/design/roles.md
    if (command_ == "whoami") return Usage("whoami: only with --server");
    if (command_.starts_with("config")) return Usage("config: only with --server (offline: edit ca.toml, then SIGHUP)");
    if (command_ == "serve") args_.flags["serve"] = "1";  // CmdServe: with EST (serve_est.h)
    auto it = kCommands.find(command_);
    if (it == kCommands.end()) return Usage("ocsp: give a subcommand (serve, rotate)");
    return it->second(args_);
  }

 private:
  // Several commands declare the same option name: one value per name.
  void Text(CLI::App& app, const std::string& name, const std::string& help) {
    options_.emplace_back(name, app.add_option("--" + name, values_[name], help));
  }
  void Number(CLI::App& app, const std::string& name, int64_t min, int64_t max, const std::string& help) {
    Text(app, name, help);
    options_.back().second->check(CLI::Range(min, max));
  }
  void Texts(CLI::App& app, const std::string& name, const std::string& help) {
    app.add_option("--" + name, lists_[name], help)->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  }
  void Switch(CLI::App& app, const std::string& name, const std::string& help) {
    auto flag = std::make_unique<bool>(false);
    app.add_flag("--" + name, *flag, help);
    switches_.emplace_back(name, std::move(flag));
  }
  void Commands() {
    InitOptions(*app_.add_subcommand("init", "write ca.toml from flags (guided set-up), then create the CA hierarchy "
                                             "(keys in the token) and its database"));
    CLI::App* install = app_.add_subcommand("install-issuing", "install an externally signed issuing CA");
    Text(*install, "cert", "the issuing CA certificate (PEM)");
    Text(*install, "root", "the root certificate that signed it (PEM)");
    install->get_option("--cert")->required();
    install->get_option("--root")->required();
    CLI::App* issue = app_.add_subcommand("issue", "issue certificates for CSRs");
    Text(*issue, "profile", "the profile of ca.toml");
    issue->get_option("--profile")->required();
    Text(*issue, "csr", "one CSR (PEM or DER; - for stdin)");
    Text(*issue, "batch", "a directory of *.csr/*.pem/*.der CSRs, or - for PEM CSRs on stdin");
    Text(*issue, "out", "write the certificates (PEM) to this file");
    Text(*issue, "out-dir", "write one NAME.pem per CSR into this directory");
    Number(*issue, "threads", 1, 64, "signing threads (default: sign_threads)");
    Number(*issue, "chunk", 1, 1 << 20, "certificates per database transaction");
    CLI::App* provision =
        app_.add_subcommand("provision", "make an update package for a vault, record its receipt, or list deliveries");
    Text(*provision, "request", "the vault's update request (certvault update-request)");
    Text(*provision, "batch", "a directory of NAME.req requests: one NAME.upd each in --out-dir");
    Text(*provision, "out-dir", "with --batch: where the packages go");
    Text(*provision, "profile", "the profile of ca.toml for the delivered key's certificate");
    Text(*provision, "subject", "the certificate subject, /CN=.../O=... ({name}: the request's file name)");
    Text(*provision, "authority-cert", "the provisioning authority certificate the vault pinned (PEM)");
    Text(*provision, "authority-key", "its private key: a file, an OSSL_STORE URI, or with --authority-module a "
                                      "pkcs11: URI");
    Text(*provision, "authority-module", "the PKCS#11 module holding --authority-key (e.g. SoftHSM2)");
    Text(*provision, "authority-pin-file", "with --authority-module: a file (mode 0600) holding that token's PIN");
    Text(*provision, "identity-roots", "refuse requests whose identity certificate does not chain to this CA");
    Number(*provision, "valid-hours", 1, 24 * 365, "the package expires after this many hours (default 72)");
    Text(*provision, "out", "write the update package here");
    Text(*provision, "receipt", "verify this receipt (certvault apply-update --receipt-out) instead");
    Text(*provision, "identity-cert", "with --receipt: the vault's identity certificate");
    Text(*provision, "renew", "with --request: a new certificate for this delivered key (hex key id), same key");
    Text(*provision, "delete-key", "with --request: delete this key (hex key id) from the vault");
    Number(*provision, "capacity", 0, 1 << 30, "with --request: set the vault's capacity (0 = unlimited)");
    Switch(*provision, "wrap-key", "deliver the key wrapped to the transport key (UpdateContent version 3)");
    Text(*provision, "rotate-authority", "with --request: pin this new authority certificate (PEM) instead");
    Switch(*provision, "status", "list the deliveries and their receipts instead");
    Text(*provision, "target", "with --status: only this vault (token serial)");
    Number(*provision, "limit", 1, 100000000, "with --status: at most this many (default 100)");
    CLI::App* revoke = app_.add_subcommand("revoke", "revoke certificates (all of the serials or none)");
    revoke->add_option("serial", positional_, "serials (hex)")->required();
    Text(*revoke, "reason", "RFC 5280 CRLReason name (default unspecified)");
    Text(*revoke, "invalidity-date", "seconds since the epoch or YYYYMMDDHHMMSSZ (not in the future)");
    Text(*revoke, "ca", "issuing (default) or root (to revoke the issuing CA or another root-signed certificate)");
    CLI::App* crl = app_.add_subcommand("crl", "sign a full or delta CRL");
    Switch(*crl, "delta", "a delta CRL (RFC 5280 5.2.4)");
    Number(*crl, "partition", 0, 1023, "the partition (with crl_partitions > 1)");
    Switch(*crl, "all-partitions", "every partition");
    Text(*crl, "out", "write the CRL here instead of DIR/crl/");
    Switch(*crl, "pem", "PEM instead of DER");
    Switch(*crl, "after-restore", "continue after the database was restored from an older backup");
    Number(*crl, "crl-floor", 1, INT64_MAX, "after `restore`: continue above this cRLNumber (the highest published)");
    Text(*crl, "ca", "issuing (default) or root (the root's CRL, an ARL: DIR/crl/root.crl)");
    CLI::App* ocsp = app_.add_subcommand("ocsp", "the OCSP responder");
    ocsp->require_subcommand(1);
    CLI::App* serve = ocsp->add_subcommand("serve", "answer OCSP requests and serve CRLs over HTTP");
    Number(*serve, "port", 0, 65535, "TCP port (0: any free port)");
    Text(*serve, "bind", "address to listen on (default 127.0.0.1)");
    Number(*serve, "threads", 1, 64, "server threads");
    Number(*serve, "crl-interval", 0, 31536000, "sign a full and a delta CRL every S seconds (0: never)");
    CLI::App* est = app_.add_subcommand("serve", "EST over HTTPS, OCSP and CRLs over HTTP ([server] of ca.toml)");
    Number(*est, "http-port", 0, 65535, "plain HTTP port for CRL/OCSP (default [server] http_port; 0: off)");
    Number(*est, "https-port", 0, 65535, "HTTPS port for EST (default [server] https_port)");
    Text(*est, "bind", "address to listen on (default [server] bind)");
    Number(*est, "threads", 1, 64, "server threads");
    Number(*est, "crl-interval", 0, 31536000, "sign a full and a delta CRL every S seconds (0: never)");
    CLI::App* server_cert = app_.add_subcommand("server-cert", "a TLS key in the token and its certificate for serve");
    Text(*server_cert, "san", "comma-separated subjectAltNames (default IP:127.0.0.1), e.g. DNS:ca.example.com");
    CLI::App* code = app_.add_subcommand("enroll-code", "a one-time EST enrollment password (HTTP Basic)");
    Text(*code, "profile", "the profile it may enroll into (one of [server] enroll_code_profiles)");
    code->get_option("--profile")->required();
    Number(*code, "hours", 1, 24 * 365, "valid for this many hours (default [server] enroll_code_hours)");
    Switch(*code, "cmp", "also for a CMP ir with a password-based MAC (the secret is kept until used or expired)");
    ocsp->add_subcommand("rotate", "a new OCSP signing key and certificate; the old key is destroyed");
    CLI::App* rollover = app_.add_subcommand("rollover", "a new key generation; the old one keeps its CRLs and OCSP");
    Switch(*rollover, "issuing", "a new issuing key and certificate from the current root (the default)");
    Switch(*rollover, "root", "a new root key too, with old-with-new and new-with-old link certificates");
    Text(*rollover, "quorum-op", "a create-key operation approved by the token's quorum: the new keys are "
                                "quorum-protected (docs/design/quorum.md)");
    CLI::App* backup = app_.add_subcommand("backup", "the whole instance in one file: database snapshot, files, token archive");
    Text(*backup, "out", "the backup file to write (never over an existing one)");
    Text(*backup, "token-archive", "the CA token's archive from `certvault backup` (made under its quorum)");
    CLI::App* restore = app_.add_subcommand("restore", "a backup into a new, empty instance directory (--dir)");
    restore->add_option("file", positional_, "the backup file")->required()->expected(1);
    Text(*restore, "database", "a PostgreSQL instance: the new, empty database to load (ca.toml is set to it)");
    CLI::App* list = app_.add_subcommand("list", "list issued certificates");
    Text(*list, "subject", "only subjects containing this text");
    Number(*list, "limit", 1, 100000000, "at most this many (default 100)");
    Text(*list, "ca", "issuing (default) or root");
    Text(*list, "generation", "only this key generation (default: every one, the current first)");
    CLI::App* show = app_.add_subcommand("show", "show one certificate");
    show->add_option("serial", positional_, "serial (hex)")->required()->expected(1);
    Switch(*show, "pem", "print the certificate as PEM");
    Text(*show, "ca", "issuing (default) or root");
    Text(*show, "generation", "only in this key generation (default: whichever issued it)");
    app_.add_subcommand("profiles", "list the profiles of ca.toml");
    CLI::App* audit = app_.add_subcommand("audit", "list audit events");
    Number(*audit, "limit", 1, 100000000, "at most this many (default 50)");
    CLI::App* verify = audit->add_subcommand("verify", "check the audit chain; names the first broken link");
    Text(*verify, "from-checkpoint", "a file holding a checkpoint line (from syslog/journald) to anchor the check");
    Text(*verify, "key", "the audit public key (default: audit-key.pem of the instance)");
    CLI::App* exp = audit->add_subcommand("export", "the audit records as JSON lines");
    Text(*exp, "since", "only records at or after this time (seconds since the epoch, or YYYY-MM-DDTHH:MM:SSZ)");
    UserCommands();
    app_.add_subcommand("whoami", "with --server: the identity and roles the server sees");
    CLI::App* config = app_.add_subcommand("config", "with --server: ca.toml through the admin API (role admin)");
    config->require_subcommand(1);
    config->add_subcommand("show", "print the ca.toml in force");
    config->add_subcommand("apply", "check FILE as a whole new ca.toml, write it and reload [server]")
        ->add_option("file", positional_, "the new ca.toml")->required()->expected(1);
    CLI::App* selftest = app_.add_subcommand("selftest", "run the power-on self-tests and report");
    Switch(*selftest, "json", "the report as JSON");
    Text(*app_.add_subcommand("policy", "the key-management policy")->require_subcommand(1)->add_subcommand("report", "the policy report (checklist, inventory, CP/CPS skeleton)"), "format", "md (default) or html");
    Switch(*app_.add_subcommand("status", "the time source's health (offset, last check, source)"), "json", "as JSON");
  }

  // UserCommands: identities and roles (cmd_user.cc, docs/design/roles.md).
  void UserCommands() {
    CLI::App* user = app_.add_subcommand("user", "identities (operators) of the CA");
    user->require_subcommand(1);
    CLI::App* add = user->add_subcommand("add", "issue an operator certificate for a CSR and bind it to a new identity");
    Text(*add, "name", "the identity's name (1..64 of A-Z a-z 0-9 . _ - @)");
    Text(*add, "role", "authority, admin, crypto-officer, operator or auditor");
    Text(*add, "csr", "the CSR of the key in the operator's token (PEM or DER)");
    Text(*add, "out", "write the certificate (PEM) here instead of standard output");
    for (const char* o : {"--name", "--role", "--csr"}) add->get_option(o)->required();
    user->add_subcommand("list", "list identities, their roles and certificates");
    CLI::App* remove = user->add_subcommand("remove", "remove an identity (its certificate is revoked)");
    remove->add_option("name", positional_, "the identity")->required()->expected(1);
    CLI::App* role = app_.add_subcommand("role", "roles of identities");
    role->require_subcommand(1);
    role->add_subcommand("grant", "grant NAME the role ROLE")->add_option("args", positional_, "NAME ROLE")->expected(2);
    role->add_subcommand("revoke", "take the role ROLE from NAME")->add_option("args", positional_, "NAME ROLE")->expected(2);
  }

  // InitOptions: the guided set-up (cmd_init.cc, docs/design/ca.md). With
  // none of these, init uses the hand-written ca.toml of the directory.
  void InitOptions(CLI::App& init) {
    Switch(init, "external-root", "only the issuing key and issuing.csr, for an external root to sign");
    Text(init, "name", "set-up: the CA's name (1..32 of A-Z a-z 0-9 . _ -; token key label prefix)");
    Text(init, "root-subject", "set-up: the root's subject, /CN=../O=.. (default /CN=NAME Root CA)");
    Text(init, "issuing-subject", "set-up: the issuing CA's subject (default /CN=NAME Issuing CA)");
    Text(init, "key-algorithm", "set-up: ec-p256 (default), ec-p384, rsa-2048, rsa-3072, rsa-4096");
    Text(init, "signature-algorithm", "set-up: the key's default, or ecdsa, rsa-pkcs1, rsa-pss");
    Text(init, "token-module", "set-up: the PKCS#11 module holding the CA keys");
    Text(init, "token-label", "set-up: the CA token's label");
    Text(init, "pin-env", "set-up: the environment variable holding the token PIN (instead of --pin-file)");
    Text(init, "database", "set-up: sqlite:PATH (default sqlite:ca.db) or postgresql://...");
    Text(init, "url", "set-up: http://HOST[:PORT] where `ocsp serve` is reached (CRL DP and OCSP URL)");
    Number(init, "crl-partitions", 1, 1024, "set-up: CRL partitions (default 1: one full CRL)");
    Texts(init, "permitted-dns", "set-up: a DNS domain the issuing CA may certify (repeatable; nameConstraints)");
    Text(init, "profile-dir", "set-up: take the starting profiles from DIR/*.toml instead of the shipped ones");
    Text(init, "authority-csr", "the CSR of the first System Authority's key (in their token): an identity with "
                                "role authority (docs/design/roles.md)");
    Text(init, "authority-name", "that identity's name (default authority)");
    Text(init, "authority-out", "where its certificate goes (default DIR/authority.pem)");
    Text(init, "quorum-op", "a create-key operation approved by the CA token's quorum: the root and issuing keys "
                            "become quorum-protected (docs/design/quorum.md)");
  }

  CLI::App app_;
  std::map<std::string, std::vector<std::string>> lists_;
  std::map<std::string, std::string> values_;
  std::vector<std::pair<std::string, CLI::Option*>> options_;
  std::vector<std::pair<std::string, std::unique_ptr<bool>>> switches_;
  std::vector<std::string> positional_;
  std::string command_;
  Args args_;
};

}  // namespace
}  // namespace certvault::ca::cli

int main(int argc, char** argv) {
  prctl(PR_SET_DUMPABLE, 0);  // the process holds a token PIN for a moment
  try {
    certvault::ca::cli::CommandLine line;
    if (std::optional<int> code = line.Parse(argc, argv)) return *code;
    return line.Run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "certvault-ca: internal error: %s\n", e.what());
    return 1;
  }
}
