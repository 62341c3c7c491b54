// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Central provisioning verbs (issue 14, docs/design/provisioning.md):
//   identity csr|import|show, update-request, apply-update.
// The vault does the work (Backend); these read and write the files.
#include <openssl/pem.h>

#include "cli/command_context.h"
#include "cli/cert_io.h"
#include "cli/output.h"
#include "src/base/status_macros.h"

namespace certvault::cli {
namespace {

Status WriteTo(Context& ctx, const std::string& option, std::span<const uint8_t> data) {
  std::optional<std::string> path = ctx.args->Get(option);
  if (!path) return InvalidArgumentError("--" + option + " FILE is required");
  return WriteFileAtomic(*path, data);
}

Result<std::string> Pem(std::string_view label, std::span<const uint8_t> der) { return x509::PemEncode(label, der); }

// SubjectOf: the one-line subject of a DER certificate ("?" if unreadable).
std::string SubjectOf(std::span<const uint8_t> der) {
  const unsigned char* p = der.data();
  ossl::UniquePtr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  char buf[256];
  if (cert == nullptr || X509_NAME_oneline(X509_get_subject_name(cert.get()), buf, sizeof buf) == nullptr) return "?";
  return buf;
}

Status IdentityShow(Context& ctx, OpenedToken& t) {
  CV_ASSIGN_OR_RETURN(Backend::VaultIdentity id, ctx.backend->GetVaultIdentity(t.session.handle()));
  CV_ASSIGN_OR_RETURN(std::string id_pem, Pem("CERTIFICATE", id.identity_cert));
  CV_ASSIGN_OR_RETURN(std::string tr_pem, Pem("CERTIFICATE", id.transport_cert));
  *ctx.out << "serial:  " << id.token_serial << "\nmode:    " << (id.authority_cert.empty() ? "user" : "vendor");
  if (!id.authority_cert.empty()) *ctx.out << "\nauthority: " << SubjectOf(id.authority_cert);
  *ctx.out << "\ncounter: " << id.counter << "\n" << id_pem << tr_pem;
  return OkStatus();
}

// EnsureVaultKeys: makes the vault keys if the token has none yet.
Status EnsureVaultKeys(Context& ctx, OpenedToken& t) {
  if (ctx.backend->GetVaultIdentity(t.session.handle()).ok()) return OkStatus();
  Status s = ctx.backend->CreateVaultKeys(t.session.handle());
  return s.code() == StatusCode::kAlreadyExists ? OkStatus() : s;
}

}  // namespace

Status CmdIdentity(Context& ctx) {
  const std::vector<std::string>& pos = ctx.args->positional();
  if (pos.empty()) return InvalidArgumentError("usage: identity csr --subject S --out F | identity import FILE | identity show");
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, ctx.args->Get("token"), /*read_write=*/true, /*login=*/true));
  CV_RETURN_IF_ERROR(EnsureVaultKeys(ctx, t));
  if (pos[0] == "show") return IdentityShow(ctx, t);
  if (pos[0] == "csr") {
    std::optional<std::string> subject = ctx.args->Get("subject");
    if (!subject) return InvalidArgumentError("--subject /CN=.../O=... is required");
    CV_ASSIGN_OR_RETURN(Bytes csr, ctx.backend->IdentityCsr(t.session.handle(), *subject));
    CV_ASSIGN_OR_RETURN(std::string pem, Pem("CERTIFICATE REQUEST", csr));
    return WriteOutput(ctx, AsSpan(pem));
  }
  if (pos[0] == "import" && pos.size() == 2) {
    CV_ASSIGN_OR_RETURN(Bytes file, ReadFile(pos[1]));
    CV_ASSIGN_OR_RETURN(std::vector<Bytes> certs, ParseCertificates(file));
    CV_RETURN_IF_ERROR(ctx.backend->ImportIdentityCert(t.session.handle(), certs.front()));
    *ctx.out << "imported the identity certificate\n";
    return OkStatus();
  }
  return InvalidArgumentError("unknown identity command '" + pos[0] + "'");
}

Status CmdUpdateRequest(Context& ctx) {
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, ctx.args->Get("token"), /*read_write=*/true, /*login=*/true));
  CV_RETURN_IF_ERROR(EnsureVaultKeys(ctx, t));
  CV_ASSIGN_OR_RETURN(Bytes der, ctx.backend->UpdateRequest(t.session.handle(), ctx.args->Get("label").value_or("")));
  CV_RETURN_IF_ERROR(WriteTo(ctx, "out", der));
  *ctx.out << "wrote the update request (" << der.size() << " bytes)\n";
  return OkStatus();
}

Status CmdApplyUpdate(Context& ctx) {
  const std::vector<std::string>& pos = ctx.args->positional();
  if (pos.size() != 1) return InvalidArgumentError("usage: apply-update FILE [--receipt-out F]");
  CV_ASSIGN_OR_RETURN(Bytes package, ReadFile(pos[0]));
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, ctx.args->Get("token"), /*read_write=*/true, /*login=*/true));
  CV_ASSIGN_OR_RETURN(Backend::ApplyResult r, ctx.backend->ApplyUpdate(t.session.handle(), package));
  if (ctx.args->Has("receipt-out")) CV_RETURN_IF_ERROR(WriteTo(ctx, "receipt-out", r.receipt));
  *ctx.out << "applied update " << r.counter << ": key id " << HexEncode(r.key_id) << "\n";
  return OkStatus();
}

Status CmdAttest(Context& ctx) {
  CV_ASSIGN_OR_RETURN(ObjectSelector sel, MakeSelector(ctx.args->Get("key"), ctx.args->Get("id"), ctx.args->Get("token")));
  sel.object_class = CKO_PRIVATE_KEY;
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, sel.token, /*read_write=*/true, /*login=*/true, UserType::kUser, &sel));
  CV_ASSIGN_OR_RETURN(ObjectInfo info, FindOne(t.session, sel, "private key"));
  CV_RETURN_IF_ERROR(EnsureVaultKeys(ctx, t));
  CV_ASSIGN_OR_RETURN(Bytes der, ctx.backend->Attest(t.session.handle(), info.handle));
  CV_ASSIGN_OR_RETURN(std::string pem, Pem("CERTIFICATE", der));
  return WriteOutput(ctx, AsSpan(pem));
}

// SetUpVaultKeys: `init --mode vendor`'s last step: the vault keys and the
// pinned authority. In user mode (the default) nothing is added at init: the
// vault keys are made at the first `identity` or `update-request`
// (EnsureVaultKeys), so a vault that never provisions keeps its old contents.
Status SetUpVaultKeys(Context& ctx, SlotId slot, const SecretBytes& user_pin) {
  std::string mode = ctx.args->Get("mode").value_or("user");
  if (mode != "user" && mode != "vendor") return InvalidArgumentError("--mode is user or vendor");
  std::optional<std::string> vendor_cert = ctx.args->Get("vendor-cert");
  if ((mode == "vendor") != vendor_cert.has_value()) {
    return InvalidArgumentError("--mode vendor needs --vendor-cert FILE (and only it takes one)");
  }
  if (mode == "user") return OkStatus();
  CV_ASSIGN_OR_RETURN(Bytes file, ReadFile(*vendor_cert));
  CV_ASSIGN_OR_RETURN(std::vector<Bytes> certs, ParseCertificates(file));
  CV_ASSIGN_OR_RETURN(Session session, Session::Open(ctx.backend, slot, /*read_write=*/true));
  CV_RETURN_IF_ERROR(session.Login(UserType::kUser, user_pin));
  CV_RETURN_IF_ERROR(ctx.backend->CreateVaultKeys(session.handle()));
  CV_RETURN_IF_ERROR(ctx.backend->PinAuthority(session.handle(), certs.front()));
  return ctx.backend->Logout(session.handle());
}

}  // namespace certvault::cli
