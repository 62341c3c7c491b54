// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca --server https://HOST:PORT --identity 'pkcs11:token=T;object=K'
// [--identity-cert F] --trust root.pem [--pin-file F] [--vault D | --socket S |
// --module P11MODULE] COMMAND: the verbs issue, revoke, crl, list, audit [verify|export],
// user add/list/remove, role grant/revoke, config show/apply, rollover and
// whoami, run through the admin API of
// `certvault-ca serve` (ca/server/admin_service.h) as the identity whose key
// is in the operator's token. Nothing is read from an instance directory.
#include <cstdio>

#include "ca/cli/cli.h"
#include "ca/issuance/serial.h"
#include "ca/remote/admin_client.h"
#include "ca/roles/roles.h"
#include "src/base/status_macros.h"

namespace certvault::ca::cli {
namespace {

struct RemoteCall {
  std::string method = "GET";
  std::string route;
  std::string body;
};

// Build: the admin route of `command`; kInvalidArgument for a verb the
// admin API does not offer.
Result<RemoteCall> Build(const Args& args, const std::string& command) {
  const auto& pos = args.positional;
  if (command == "whoami") return RemoteCall{"GET", "whoami", ""};
  if (command == "list") return RemoteCall{"GET", "certs/" + args.Get("limit", "100"), ""};
  if (command == "audit") return RemoteCall{"GET", "audit/" + args.Get("limit", "50"), ""};
  if (command == "crl") return RemoteCall{"POST", "crl", ""};
  if (command == "user list") return RemoteCall{"GET", "users", ""};
  if (command == "audit verify") return RemoteCall{"GET", "audit/verify", ""};
  if (command == "audit export") {
    CV_ASSIGN_OR_RETURN(int64_t since, ParseSince(args.Get("since")));
    return RemoteCall{"GET", "audit/export/" + std::to_string(since), ""};
  }
  if (command == "config show") return RemoteCall{"GET", "config", ""};
  if (command == "config apply" && pos.size() == 1) {
    CV_ASSIGN_OR_RETURN(Bytes text, ReadFileBytes(pos[0]));
    return RemoteCall{"POST", "config", std::string(text.begin(), text.end())};
  }
  if (command == "rollover") {
    if (args.Has("issuing") && args.Has("root")) return InvalidArgumentError("rollover: --issuing or --root, not both");
    return RemoteCall{"POST", args.Has("root") ? "rollover/root" : "rollover", ""};
  }
  if (command == "user add") {
    CV_ASSIGN_OR_RETURN(Role role, ParseRole(args.Get("role")));
    CV_RETURN_IF_ERROR(CheckIdentityName(args.Get("name")));
    CV_ASSIGN_OR_RETURN(Bytes csr, ReadFileBytes(args.Get("csr")));
    return RemoteCall{"POST", "users/" + args.Get("name") + "/add/" + std::string(RoleName(role)),
                      std::string(csr.begin(), csr.end())};
  }
  if (command == "user remove" && pos.size() == 1) return RemoteCall{"POST", "users/" + pos[0] + "/remove", ""};
  if ((command == "role grant" || command == "role revoke") && pos.size() == 2) {
    return RemoteCall{"POST", "users/" + pos[0] + (command == "role grant" ? "/grant/" : "/revoke/") + pos[1], ""};
  }
  if (command == "issue") {
    if (!args.Has("csr")) return InvalidArgumentError("issue --server: give one --csr");
    CV_ASSIGN_OR_RETURN(Bytes csr, ReadFileBytes(args.Get("csr")));
    return RemoteCall{"POST", "issue/" + args.Get("profile"), std::string(csr.begin(), csr.end())};
  }
  if (command == "revoke") {
    CV_ASSIGN_OR_RETURN(int reason, ParseReason(args.Get("reason", "unspecified")));
    RemoteCall call{"POST", "revoke/" + std::to_string(reason), ""};
    for (const std::string& s : pos) {
      CV_ASSIGN_OR_RETURN(std::string serial, NormalizeSerialHex(s));
      call.body += serial + "\n";
    }
    return call;
  }
  return InvalidArgumentError("'" + command + "' is not available through --server (offline only: init, ...)");
}

RemoteOptions OptionsOf(const Args& args) {
  RemoteOptions o;
  o.server = args.Get("server");
  o.identity = args.Get("identity");
  o.identity_cert = args.Get("identity-cert");
  o.trust = args.Get("trust");
  o.pin_file = args.Get("pin-file");
  o.vault = args.Get("vault");
  o.socket = args.Get("socket");
  o.provider_module = args.Get("provider-module");
  o.module = args.Get("module");
  return o;
}

}  // namespace

int CmdRemote(Args& args, const std::string& command) {
  if (!args.Has("identity") || !args.Has("trust")) return Usage("--server needs --identity and --trust");
  Result<RemoteCall> call = Build(args, command);
  if (!call.ok()) return Usage(std::string(call.status().message()));
  auto client = AdminClient::Create(OptionsOf(args));
  if (!client.ok()) return Fail(client.status());
  auto answer = (*client)->Request(call->method, "/admin/v1/" + call->route, call->body);
  if (!answer.ok()) return Fail(answer.status());
  if (answer->status < 200 || answer->status > 299) {
    std::fprintf(stderr, "certvault-ca: the server refused (HTTP %d): %s", answer->status, answer->body.c_str());
    return 1;
  }
  if ((command == "issue" || command == "user add") && args.Has("out")) {
    Status st = WriteFile(args.Get("out"), answer->body);
    return st.ok() ? 0 : Fail(st);
  }
  std::fputs(answer->body.c_str(), stdout);
  // Like the offline verify: a broken chain is exit code 1.
  return command == "audit verify" && answer->body.rfind("audit chain ok", 0) != 0 ? 1 : 0;
}

}  // namespace certvault::ca::cli
