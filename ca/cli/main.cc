// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca: the private CA. See docs/design/ca.md.
#include <openssl/crypto.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "ca/cli/cli.h"

namespace certvault::ca::cli {

int Fail(const Status& status) {
  std::fprintf(stderr, "certvault-ca: %s\n", std::string(status.message()).c_str());
  return 1;
}

int Usage(const std::string& message) {
  std::fprintf(stderr, "certvault-ca: %s\n", message.c_str());
  std::fprintf(stderr,
               "usage: certvault-ca [--dir DIR] [--actor NAME] [--pin-file F] COMMAND ...\n"
               "  init [--external-root]            create the CA hierarchy (keys in the token)\n"
               "  install-issuing --cert F --root F  install an externally signed issuing CA\n"
               "  issue --profile P (--csr F | --batch DIR|-) [--out F | --out-dir D] [--threads N] [--chunk N]\n"
               "  revoke SERIAL... [--reason R] [--invalidity-date EPOCH]\n"
               "  crl [--delta] [--partition N] [--out F] [--pem]\n"
               "  ocsp serve [--port N] [--bind ADDR] [--threads N] [--crl-interval S]\n"
               "  list [--subject TEXT] [--limit N]   show SERIAL [--pem]   profiles   audit [--limit N]\n"
               "  selftest [--json]                  run the power-on self-tests and report\n");
  return 2;
}

Result<std::unique_ptr<CaInstance>> Open(const Args& args, bool token) {
  std::string dir = args.Get("dir");
  if (dir.empty()) {
    const char* env = std::getenv("CERTVAULT_CA_DIR");
    dir = env != nullptr ? env : ".";
  }
  char resolved[PATH_MAX];
  if (realpath(dir.c_str(), resolved) == nullptr) return NotFoundError("no CA directory " + dir);
  return CaInstance::Open(resolved, token, args.Get("pin-file"));
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

// Flags that take no value.
bool IsSwitch(const std::string& name) {
  return name == "external-root" || name == "json" || name == "delta" || name == "pem" || name == "quiet" || name == "all-partitions";
}

Result<Args> ParseArgs(int argc, char** argv, int start) {
  Args args;
  for (int i = start; i < argc; ++i) {
    std::string a = argv[i];
    if (a.starts_with("--") && a.size() > 2) {
      std::string name = a.substr(2);
      if (IsSwitch(name)) {
        args.flags[name] = "1";
      } else if (i + 1 < argc) {
        args.flags[name] = argv[++i];
      } else {
        return InvalidArgumentError("--" + name + " needs a value");
      }
    } else {
      args.positional.push_back(a);
    }
  }
  return args;
}

int Dispatch(Args& args) {
  if (args.positional.empty()) return Usage("no command");
  std::string cmd = args.positional.front();
  args.positional.erase(args.positional.begin());
  if (cmd == "selftest") return CmdSelftest(args);
  if (int rc = RequireSelfTests(); rc != 0) return rc;  // no signatures from a failed self-test
  if (cmd == "init") return CmdInit(args);
  if (cmd == "install-issuing") return CmdInstallIssuing(args);
  if (cmd == "issue") return CmdIssue(args);
  if (cmd == "revoke") return CmdRevoke(args);
  if (cmd == "crl") return CmdCrl(args);
  if (cmd == "ocsp") {
    if (args.positional.empty() || args.positional.front() != "serve") return Usage("ocsp: only 'serve'");
    return CmdServe(args);
  }
  if (cmd == "list") return CmdList(args);
  if (cmd == "show") return CmdShow(args);
  if (cmd == "profiles") return CmdProfiles(args);
  if (cmd == "audit") return CmdAudit(args);
  return Usage("unknown command '" + cmd + "'");
}

}  // namespace
}  // namespace certvault::ca::cli

int main(int argc, char** argv) {
  prctl(PR_SET_DUMPABLE, 0);  // the process holds a token PIN for a moment
  try {
    auto args = certvault::ca::cli::ParseArgs(argc, argv, 1);
    if (!args.ok()) return certvault::ca::cli::Usage(std::string(args.status().message()));
    return certvault::ca::cli::Dispatch(*args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "certvault-ca: internal error: %s\n", e.what());
    return 1;
  }
}
