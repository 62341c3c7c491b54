// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Internal to cli/: what each verb receives, and the helpers verbs share.
#ifndef CERTVAULT_CLI_COMMAND_CONTEXT_H_
#define CERTVAULT_CLI_COMMAND_CONTEXT_H_

#include <ostream>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/pin.h"
#include "cli/vault.h"
#include "src/core/backend.h"
#include "src/crypto/x509_build.h"

namespace certvault::cli {

struct Context {
  Backend* backend = nullptr;
  Args* args = nullptr;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  bool json = false;
  std::string vault_dir;  // resolved, for display
};

using CommandFn = Status (*)(Context& ctx);

struct CommandDef {
  std::string_view name;
  std::string_view usage;
  std::vector<OptionSpec> options;
  CommandFn run = nullptr;
  bool needs_backend = true;  // false: runs without opening a vault (ctx.backend is null)
};

// The verbs, one group per file.
Status CmdInit(Context& ctx);
Status CmdSelftest(Context& ctx);  // cmd_selftest.cc
Status CmdTokens(Context& ctx);
Status CmdInfo(Context& ctx);
Status CmdChangePin(Context& ctx);
Status CmdUnlock(Context& ctx);
Status CmdList(Context& ctx);
Status CmdDelete(Context& ctx);
Status CmdExportCert(Context& ctx);
Status CmdExportPubkey(Context& ctx);
Status CmdExportKeyref(Context& ctx);
Status CmdKeygen(Context& ctx);
Status CmdCsr(Context& ctx);
Status CmdSelfsign(Context& ctx);
Status CmdImportCert(Context& ctx);
Status CmdImportP12(Context& ctx);
Status CmdKey(Context& ctx);  // cmd_key.cc
Status CmdPolicy(Context& ctx);  // cmd_policy.cc (issue 17)
// cmd_provision.cc (issue 14)
Status CmdIdentity(Context& ctx);
Status CmdUpdateRequest(Context& ctx);
Status CmdApplyUpdate(Context& ctx);
Status CmdAttest(Context& ctx);
Status SetUpVaultKeys(Context& ctx, SlotId slot, const SecretBytes& user_pin);

class JsonObject;
// AddLifecycleJson / LifecycleText: a key's state, reason and crypto-period
// for `list` (nothing for other objects).
void AddLifecycleJson(JsonObject* o, const ObjectInfo& info);
std::string LifecycleText(const ObjectInfo& info);
Status CmdAudit(Context& ctx);  // cmd_audit.cc
// cmd_quorum.cc (docs/design/quorum.md)
Status CmdQuorum(Context& ctx);
Status CmdBackup(Context& ctx);
Status CmdRestore(Context& ctx);
Status CmdZeroize(Context& ctx);

// OpenedToken: a token with an open session (logged in if asked).
struct OpenedToken {
  TokenRef token;
  Session session;
};
// OpenToken: finds the token (--token or the URI's token=), opens a session,
// and logs in as `user` when `login` is set, with the PIN of the URI in `sel`
// (pin-value, or pin-source "file:PATH" / "PATH") if any, else ObtainPin.
Result<OpenedToken> OpenToken(Context& ctx, const std::optional<std::string>& label, bool read_write, bool login,
                              UserType user = UserType::kUser, ObjectSelector* sel = nullptr);

// StoreCertificate: creates a CKO_CERTIFICATE/CKC_X_509 token object with
// CKA_SUBJECT/ISSUER/SERIAL_NUMBER/VALUE/ID/LABEL from `der`.
Result<ObjectHandle> StoreCertificate(Session& session, std::span<const uint8_t> der, std::string_view label,
                                      const Bytes& id);

// GenerateVaultKey: a key pair of `type` (keygen's --type values) labelled
// `label`; CKA_ID `id` or SHA-1 of the public value. Returns the private
// key (and the public one in `pub_out` if set). cmd_sign.cc.
Result<ObjectInfo> GenerateVaultKey(Context& ctx, OpenedToken& t, const std::string& label, const std::string& type,
                                    std::optional<Bytes> id, ObjectInfo* pub_out = nullptr);
// VaultCsr: a DER PKCS#10 request signed in the vault by the private key
// `sel`, with --subject and --san from ctx.args (the `csr` verb's code).
Result<Bytes> VaultCsr(Context& ctx, OpenedToken& t, const ObjectSelector& sel);
// VaultCsrFor: the same with the subject (ParseSubject form) and SANs given.
Result<Bytes> VaultCsrFor(Context& ctx, OpenedToken& t, const ObjectSelector& sel, const std::string& subject,
                          std::vector<x509::SanEntry> sans);
Status CmdEnroll(Context& ctx);  // cmd_enroll.cc
Status CmdRenew(Context& ctx);   // cmd_enroll.cc
Status CmdRevoke(Context& ctx);  // cmd_enroll.cc (CMP rr)
Status CmdCaCerts(Context& ctx);  // cmd_ca_certs.cc
// EstTrustAnchors: the anchors of --trust FILE or --trust-fingerprint SHA256
// (exactly one; the fingerprint is looked up in the server's cacerts over an
// unauthenticated connection, RFC 7030 §4.1.1). cmd_enroll.cc.
struct EstUrl;
Result<std::vector<Bytes>> EstTrustAnchors(const Args& args, const EstUrl& url);

// WriteOutput: `data` to --out (atomically) or to ctx.out.
Status WriteOutput(Context& ctx, std::span<const uint8_t> data);

}  // namespace certvault::cli

#endif  // CERTVAULT_CLI_COMMAND_CONTEXT_H_
