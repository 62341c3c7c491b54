// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca init: with set-up flags (the guided set-up, like `step ca
// init`), first writes the instance directory and a commented ca.toml with
// the shipped starting profiles (ca/config/ca_setup.h); then, as for a
// hand-written ca.toml, creates the database and the hierarchy. An existing
// instance is never overwritten.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "ca/cli/cli.h"
#include "ca/cli/quorum_check.h"
#include "ca/config/ca_setup.h"
#include "src/base/status_macros.h"

namespace certvault::ca::cli {
namespace {

namespace fs = std::filesystem;

// The options that ask for the guided set-up (--pin-file and --external-root
// also serve a hand-written ca.toml).
constexpr const char* kSetupFlags[] = {
    "name",        "root-subject", "issuing-subject", "key-algorithm", "signature-algorithm", "token-module",
    "token-label", "pin-env",      "database",        "url",           "profile-dir"};

bool WantsSetup(const Args& args) {
  for (const char* flag : kSetupFlags) {
    if (args.Has(flag)) return true;
  }
  return args.lists.count("permitted-dns") != 0;
}

int InitUsage(const std::string& message) {
  std::fprintf(stderr, "certvault-ca: init: %s\nrun 'certvault-ca init --help' for the set-up flags\n",
               message.c_str());
  return 2;
}

// Holds: the files that make `dir` an instance; init never replaces one.
Status CheckNoInstance(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    return InvalidArgumentError(dir.string() + " is not a directory");
  for (const char* f : {"ca.toml", "ca.db", "root.pem", "issuing.pem", "issuing.csr", "ocsp.pem"}) {
    if (fs::exists(dir / f, ec)) {
      return AlreadyExistsError(dir.string() + " already holds a CA instance (" + f +
                                "); init never overwrites one (to create the hierarchy of a hand-written ca.toml, "
                                "run init without the set-up flags)");
    }
  }
  return OkStatus();
}

// PinFileForToml: the PIN file as ca.toml names it: relative when inside the
// instance (the directory can move), else absolute. "" when not given.
Result<std::string> PinFileForToml(const Args& args, const fs::path& dir) {
  if (!args.Has("pin-file")) return std::string();
  std::error_code ec;
  fs::path pin = fs::weakly_canonical(fs::absolute(args.Get("pin-file")), ec);
  if (ec || !fs::is_regular_file(pin, ec)) return InvalidArgumentError("--pin-file: no file " + args.Get("pin-file"));
  fs::path rel = pin.lexically_relative(dir);
  if (!rel.empty() && *rel.begin() != "..") return rel.string();
  return pin.string();
}

Result<SetupOptions> OptionsFrom(const Args& args, const fs::path& dir) {
  SetupOptions o;
  o.name = args.Get("name");
  o.root_subject = args.Get("root-subject");
  o.issuing_subject = args.Get("issuing-subject");
  o.key_algorithm = args.Get("key-algorithm");
  o.signature_algorithm = args.Get("signature-algorithm");
  o.token_module = args.Get("token-module");
  o.token_label = args.Get("token-label");
  o.pin_env = args.Get("pin-env");
  o.database = args.Get("database");
  o.url = args.Get("url");
  if (auto it = args.lists.find("permitted-dns"); it != args.lists.end()) o.permitted_dns = it->second;
  o.external_root = args.Has("external-root");
  o.crl_partitions = static_cast<uint32_t>(std::stoul(args.Get("crl-partitions", "1")));  // CLI11 checked 1..1024
  CV_ASSIGN_OR_RETURN(o.pin_file, PinFileForToml(args, dir));
  if (!o.token_module.empty() && access(o.token_module.c_str(), R_OK) != 0) {
    return InvalidArgumentError("--token-module: no PKCS#11 module at " + o.token_module);
  }
  return o;
}

// WriteExclusive: `text` to `path`, mode 0600 (it may hold a database
// password), complete or not at all, and never over an existing file (the
// finished temporary file is hard-linked to `path`, which fails if it exists).
Status WriteExclusive(const fs::path& path, const std::string& text) {
  std::string tmp = path.string() + ".tmp." + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return InternalError("cannot write " + tmp);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  ok = ok && ::link(tmp.c_str(), path.c_str()) == 0;
  ::unlink(tmp.c_str());
  if (!ok) return AlreadyExistsError("cannot create " + path.string() + " (it exists, or the disk refused it)");
  return OkStatus();
}

// CreateDir: `dir` and its missing parents; the instance itself 0700.
// Sets `created` when it did not exist.
Status CreateDir(const fs::path& dir, bool& created) {
  std::error_code ec;
  created = !fs::exists(dir, ec);
  if (!created) return OkStatus();
  if (!fs::create_directories(dir, ec) || ::chmod(dir.c_str(), 0700) != 0) {
    return PermissionDeniedError("cannot create the instance directory " + dir.string());
  }
  return OkStatus();
}

// Written: what WriteInstance made, to undo when init fails before the
// token accepted it (nothing else exists then).
struct Written {
  fs::path toml;
  fs::path dir;  // empty unless created
  void Undo() const {
    std::error_code ec;
    if (!toml.empty()) fs::remove(toml, ec);
    if (!dir.empty()) fs::remove(dir, ec);  // only if still empty
  }
};

// WriteInstance: the guided set-up. Returns the exit code (0: written).
int WriteInstance(const Args& args, Written& written) {
  std::error_code ec;
  fs::path dir = fs::weakly_canonical(fs::absolute(InstanceDir(args)), ec);
  if (ec) return Fail(InvalidArgumentError("bad instance directory " + InstanceDir(args)));
  Result<SetupOptions> opts = OptionsFrom(args, dir);
  if (!opts.ok()) return InitUsage(std::string(opts.status().message()));
  Result<std::vector<ProfileText>> profiles =
      args.Has("profile-dir") ? ReadProfileDir(args.Get("profile-dir")) : ShippedProfiles();
  if (!profiles.ok()) return InitUsage("--profile-dir: " + std::string(profiles.status().message()));
  Result<std::string> text = RenderConfig(*opts, *profiles, dir.string());
  if (!text.ok()) return InitUsage(std::string(text.status().message()));
  if (Status st = CheckNoInstance(dir); !st.ok()) return Fail(st);
  bool created = false;
  if (Status st = CreateDir(dir, created); !st.ok()) return Fail(st);
  if (Status st = WriteExclusive(dir / "ca.toml", *text); !st.ok()) {
    if (created) fs::remove(dir, ec);
    return Fail(st);
  }
  written = {dir / "ca.toml", created ? dir : fs::path()};
  std::fprintf(stderr, "wrote %s (profiles:", written.toml.c_str());
  for (const ProfileText& p : *profiles) std::fprintf(stderr, " %s", p.name.c_str());
  std::fprintf(stderr, ")\n");
  return 0;
}

// AddAuthority: the first System Authority identity (docs/design/roles.md),
// from the CSR of a key in its holder's token. Its certificate goes to
// --authority-out, default DIR/authority.pem.
int AddAuthority(const Args& args, CaInstance& ca) {
  if (args.Has("external-root")) return InitUsage("--authority-csr: install the issuing CA first, then 'user add'");
  std::string name = args.Get("authority-name", "authority");
  std::string out = args.Get("authority-out", ca.config().dir + "/authority.pem");
  RoleService roles(ca.db(), ca.Name(CaRole::kIssuing));
  Principal who = BreakGlass(Actor(args));
  Status st = AddIdentityWithCert(ca, roles, who, name, Role::kAuthority, args.Get("authority-csr"), out);
  if (!st.ok()) return Fail(st.Annotate("the authority identity"));
  std::fprintf(stderr, "identity %s (authority): certificate %s\n", name.c_str(), out.c_str());
  return 0;
}

}  // namespace

int CmdInit(Args& args) {
  Written written;
  if (WantsSetup(args)) {
    if (int rc = WriteInstance(args, written); rc != 0) return rc;
  } else if (access((InstanceDir(args) + "/ca.toml").c_str(), F_OK) != 0) {
    return InitUsage(InstanceDir(args) +
                     " has no ca.toml: give --name, --token-module, --token-label and --pin-file "
                     "(or --pin-env) to write one, or write it by hand (docs/design/ca.md)");
  }
  auto inst = Open(args, true, /*create_db=*/true);
  if (!inst.ok()) {
    written.Undo();  // the token or database refused: leave nothing behind
    return Fail(inst.status());
  }
  if (args.Has("quorum-op")) (*inst)->SetQuorumOp(args.Get("quorum-op"));
  Status st = CheckQuorumOp((*inst)->config(), args, "init");  // issue 16: a quorum token's CA keys are protected
  if (st.ok()) st = (*inst)->PrepareToSign();
  if (st.ok()) st = (*inst)->Init(args.Has("external-root"), ActorOf(args));
  if (!st.ok()) {
    if (!written.toml.empty()) {
      std::fprintf(stderr,
                   "certvault-ca: %s was written; once the cause is fixed, run init again without the set-up "
                   "flags\n",
                   written.toml.c_str());
    }
    return Fail(st);
  }
  std::fprintf(stderr, args.Has("external-root")
                           ? "issuing key generated; have issuing.csr signed, then install-issuing\n"
                           : "CA hierarchy created: root.pem, issuing.pem, ocsp.pem, chain.pem\n");
  return args.Has("authority-csr") ? AddAuthority(args, **inst) : 0;
}

}  // namespace certvault::ca::cli
