// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// enroll --server-keygen: EST serverkeygen (RFC 7030 §4.4) into a vendor-mode
// vault (issue 14, docs/design/provisioning.md "Online: EST serverkeygen").
// The vault writes an update request (nonce remembered), which travels in the
// CSR as attribute cvUpdateRequest; the CA answers with the same update
// package as the file flow, encrypted to the vault's transport key and
// signed by the pinned authority, and the vault applies it: the key is in
// the clear only inside the vault process. The CSR itself is signed by a
// throwaway in-process key the CA does not certify.
#include "cli/cmd_enroll_keygen.h"

#include "cli/command_context.h"
#include "cli/output.h"
#include "cli/vault.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_der.h"
#include "src/crypto/ossl_error.h"
#include "src/provision/provision.h"

namespace certvault::cli {
namespace {

// KeygenCsr: --subject / --san with the update request as attribute.
Result<Bytes> KeygenCsr(const Args& args, const Bytes& update_request) {
  ossl::UniquePtr<EVP_PKEY> throwaway(EVP_PKEY_Q_keygen(crypto::LibCtx(), crypto::kPropq, "EC", "P-256"));
  if (throwaway == nullptr) return ossl::OpenSslError("EVP_PKEY_Q_keygen");
  x509::CsrSpec spec;
  CV_ASSIGN_OR_RETURN(spec.public_key_info, (ossl::ToDer<EVP_PKEY, i2d_PUBKEY>(throwaway.get(), "i2d_PUBKEY")));
  spec.subject = args.Get("subject").value_or("");
  for (const std::string& text : args.GetAll("san")) {
    CV_ASSIGN_OR_RETURN(x509::SanEntry san, x509::ParseSan(text));
    spec.sans.push_back(std::move(san));
  }
  spec.attributes.emplace_back(std::string(provision::kOidArc) + ".1.1", update_request);
  return x509::BuildCsr(spec, provision::EvpSigner(throwaway.get()));
}

struct KeygenParts {
  Bytes package;
  Bytes leaf;
};

// ReadAnswer: the encrypted key part and the certificate of an RFC 7030
// §4.4.2 answer.
Result<KeygenParts> ReadAnswer(const HttpAnswer& answer) {
  CV_ASSIGN_OR_RETURN(std::vector<MimePart> parts, SplitMultipart(answer.content_type, answer.body));
  KeygenParts out;
  for (const MimePart& part : parts) {
    if (part.content_type.find("smime-type=server-generated-key") != std::string::npos) {
      CV_ASSIGN_OR_RETURN(out.package, DecodeBase64(part.body));
    } else if (part.content_type.find("smime-type=certs-only") != std::string::npos) {
      CV_ASSIGN_OR_RETURN(std::vector<Bytes> certs, DecodeCertsOnly(part.body));
      out.leaf = certs.front();
    }
  }
  if (out.package.empty() || out.leaf.empty()) {
    return Status(Reason::kDataInvalid, "the serverkeygen answer lacks the key or the certificate part");
  }
  return out;
}

// RequireVendorMode: a user-mode vault accepts no package (and has no
// transport key to receive one), so it is refused before anything is sent.
Status RequireVendorMode(Context& ctx, OpenedToken& t) {
  Result<Backend::VaultIdentity> id = ctx.backend->GetVaultIdentity(t.session.handle());
  if (!id.ok() || id->authority_cert.empty()) {
    return FailedPreconditionError("enroll --server-keygen needs a vault in vendor mode (init --mode vendor): "
                                   "a user-mode vault accepts no key from outside");
  }
  return OkStatus();
}

}  // namespace

Status EnrollServerKeygen(Context& ctx, OpenedToken& t, const KeygenTarget& target) {
  CV_RETURN_IF_ERROR(RequireVendorMode(ctx, t));
  EstTls tls = target.tls;
  tls.anchors = target.anchors;
  CV_ASSIGN_OR_RETURN(HttpAnswer ca, EstRequest(target.url, tls, "cacerts", "", ""));
  if (ca.status != 200) return Status(Reason::kDeviceError, "cacerts: HTTP " + std::to_string(ca.status));
  CV_ASSIGN_OR_RETURN(std::vector<Bytes> chain, DecodeCertsOnly(ca.body));
  CV_ASSIGN_OR_RETURN(Bytes request, ctx.backend->UpdateRequest(t.session.handle(), target.label));
  CV_ASSIGN_OR_RETURN(Bytes csr, KeygenCsr(*ctx.args, request));
  CV_ASSIGN_OR_RETURN(HttpAnswer answer,
                      EstRequest(target.url, tls, target.profile + "/serverkeygen", target.auth, Base64(csr)));
  if (answer.status != 200) {
    return Status(StatusCode::kPermissionDenied, Reason::kDeviceError,
                  "serverkeygen refused: HTTP " + std::to_string(answer.status) + " " + answer.body.substr(0, 200));
  }
  CV_ASSIGN_OR_RETURN(KeygenParts parts, ReadAnswer(answer));
  CV_RETURN_IF_ERROR(VerifyChain(parts.leaf, chain, target.anchors));
  if (ctx.args->Has("package-out")) CV_RETURN_IF_ERROR(WriteFileAtomic(*ctx.args->Get("package-out"), parts.package));
  // The vault checks the package as any other (authority, target, nonce,
  // counter, expiry, GCM) and stores key and chain in one transaction.
  CV_ASSIGN_OR_RETURN(Backend::ApplyResult r, ctx.backend->ApplyUpdate(t.session.handle(), parts.package));
  if (ctx.args->Has("receipt-out")) CV_RETURN_IF_ERROR(WriteFileAtomic(*ctx.args->Get("receipt-out"), r.receipt));
  CV_ASSIGN_OR_RETURN(std::string leaf_key_id, provision::DeliveredKeyIdHex(parts.leaf));
  if (leaf_key_id != HexEncode(r.key_id)) {
    return Status(Reason::kDataInvalid, "the package was applied, but the answer's certificate is for another key");
  }
  if (ctx.json) {
    *ctx.out << JsonObject().Add("key_id", leaf_key_id).AddInt("counter", r.counter).AddBool("server_keygen", true).Build() << "\n";
  } else {
    *ctx.out << "enrolled with a server-generated key: label " << target.label << ", key id " << leaf_key_id
             << ", update " << r.counter << "\n";
  }
  return OkStatus();
}

}  // namespace certvault::cli
