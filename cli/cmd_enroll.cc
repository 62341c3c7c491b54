// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// enroll: first enrollment over EST (RFC 7030 §4.2.1 simpleenroll) with a
// one-time enrollment code (HTTP Basic, RFC 7617). The key is made in the
// vault if absent, the CSR is signed inside it, the returned certificate is
// checked (the key's, chains to the trust anchor) and stored with its chain
// all-or-nothing: on any failure the vault is as before (a key made by this
// run is destroyed again).
#include <sstream>

#include "cli/cert_io.h"
#include "cli/command_context.h"
#include "cli/est_client.h"
#include "cli/keys.h"
#include "cli/output.h"
#include "cli/rollback.h"
#include "src/base/status_macros.h"

namespace certvault::cli {
namespace {

Result<std::string> Required(const Args& args, std::string_view name) {
  std::optional<std::string> v = args.Get(name);
  if (!v.has_value() || v->empty()) return InvalidArgumentError("enroll needs --" + std::string(name));
  return *v;
}

// FingerprintAnchor (RFC 7030 §4.1.1 bootstrap): cacerts over an
// unauthenticated connection; the CA certificate whose SHA-256 is the pinned
// fingerprint becomes the anchor, everything else is discarded.
Result<Bytes> FingerprintAnchor(const EstUrl& url, const std::string& pin) {
  CV_ASSIGN_OR_RETURN(std::string want, NormalizeFingerprint(pin));
  EstTls open;
  open.verify = false;
  CV_ASSIGN_OR_RETURN(HttpAnswer answer, EstRequest(url, open, "cacerts", "", ""));
  if (answer.status != 200) return Status(Reason::kDeviceError, "cacerts: HTTP " + std::to_string(answer.status));
  CV_ASSIGN_OR_RETURN(std::vector<Bytes> certs, DecodeCertsOnly(answer.body));
  for (const Bytes& der : certs) {
    CV_ASSIGN_OR_RETURN(std::string got, Sha256Hex(der));
    if (got == want) return der;
  }
  return Status(StatusCode::kPermissionDenied, Reason::kDataInvalid,
                "no CA certificate of the server has the pinned --trust-fingerprint");
}

Result<std::vector<Bytes>> TrustAnchors(const Args& args, const EstUrl& url) {
  std::optional<std::string> file = args.Get("trust");
  std::optional<std::string> pin = args.Get("trust-fingerprint");
  if (file.has_value() == pin.has_value()) return InvalidArgumentError("give exactly one of --trust FILE and --trust-fingerprint SHA256");
  if (file.has_value()) {
    CV_ASSIGN_OR_RETURN(Bytes text, ReadFile(*file));
    return ParseCertificates(text);
  }
  CV_ASSIGN_OR_RETURN(Bytes anchor, FingerprintAnchor(url, *pin));
  return std::vector<Bytes>{anchor};
}

// BasicAuth: from the output of `certvault-ca enroll-code` ("id: X" and
// "password: Y" lines) or one line "X:Y".
Result<std::string> BasicAuth(const std::string& path) {
  CV_ASSIGN_OR_RETURN(SecretBytes file, ReadSecretFile(path, 4096));
  std::string text(reinterpret_cast<const char*>(file.Bytes(SecretAccess::Get()).data()), file.size());
  std::string id, password, line;
  std::istringstream in(text);
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.starts_with("id: ")) id = line.substr(4);
    if (line.starts_with("password: ")) password = line.substr(10);
    if (id.empty() && password.empty() && line.find(':') != std::string::npos && !line.starts_with("#")) {
      id = line.substr(0, line.find(':'));
      password = line.substr(line.find(':') + 1);
    }
  }
  if (id.empty() || password.empty()) return InvalidArgumentError(path + ": no enrollment code (id and password)");
  std::string pair = id + ":" + password;
  return "Basic " + Base64(AsSpan(pair));
}

// EnsureKey: the private key labelled --key, made (--type, default ec:p256)
// and recorded in `rollback` if the token has none.
Result<ObjectInfo> EnsureKey(Context& ctx, OpenedToken& t, const ObjectSelector& sel, Rollback& rollback, bool* made) {
  Result<ObjectInfo> found = FindOne(t.session, sel, "private key");
  if (found.ok() || found.status().code() != StatusCode::kNotFound) return found;
  ObjectInfo pub;
  CV_ASSIGN_OR_RETURN(ObjectInfo priv, GenerateVaultKey(ctx, t, *sel.label, ctx.args->Get("type").value_or("ec:p256"),
                                                        std::nullopt, &pub));
  rollback.Add(priv.handle);
  rollback.Add(pub.handle);
  *made = true;
  return priv;
}

Result<bool> HasCertificate(Session& session, const Bytes& der) {
  AttributeSet tmpl;
  tmpl.SetUlong(CKA_CLASS, CKO_CERTIFICATE);
  tmpl.Set(CKA_VALUE, der);
  CV_ASSIGN_OR_RETURN(std::vector<ObjectHandle> found, session.Find(tmpl));
  return !found.empty();
}

struct Issued {
  Bytes leaf;
  std::vector<Bytes> chain;  // issuing CA first, as the server sent them
};

// Enroll: cacerts and simpleenroll over verified TLS 1.3, then the checks.
Result<Issued> Enroll(const EstUrl& url, const std::vector<Bytes>& anchors, const std::string& op,
                      const std::string& auth, const Bytes& csr, const Bytes& spki) {
  EstTls tls;
  tls.anchors = anchors;
  CV_ASSIGN_OR_RETURN(HttpAnswer ca, EstRequest(url, tls, "cacerts", "", ""));
  if (ca.status != 200) return Status(Reason::kDeviceError, "cacerts: HTTP " + std::to_string(ca.status));
  CV_ASSIGN_OR_RETURN(std::vector<Bytes> chain, DecodeCertsOnly(ca.body));
  CV_ASSIGN_OR_RETURN(HttpAnswer answer, EstRequest(url, tls, op, auth, Base64(csr)));
  if (answer.status != 200) {
    return Status(StatusCode::kPermissionDenied, Reason::kDeviceError,
                  op + " refused: HTTP " + std::to_string(answer.status) + " " + answer.body.substr(0, 200));
  }
  CV_ASSIGN_OR_RETURN(std::vector<Bytes> certs, DecodeCertsOnly(answer.body));
  for (const Bytes& der : certs) {
    CV_ASSIGN_OR_RETURN(Bytes got, CertificatePublicKeyInfo(der));
    if (got != spki) continue;
    CV_RETURN_IF_ERROR(VerifyChain(der, chain, anchors));
    return Issued{der, chain};
  }
  return Status(StatusCode::kPermissionDenied, Reason::kDataInvalid, "the server returned no certificate for the key");
}

Status StoreIssued(Context& ctx, OpenedToken& t, Rollback& rollback, const ObjectInfo& key, const Issued& issued) {
  CV_ASSIGN_OR_RETURN(ObjectHandle leaf, StoreCertificate(t.session, issued.leaf, key.label, key.id));
  rollback.Add(leaf);
  for (const Bytes& der : issued.chain) {
    CV_ASSIGN_OR_RETURN(bool present, HasCertificate(t.session, der));
    if (present) continue;
    CV_ASSIGN_OR_RETURN(Bytes spki, CertificatePublicKeyInfo(der));
    CV_ASSIGN_OR_RETURN(Bytes id, KeyIdFromSpki(spki));
    std::string label = CommonNameOf(der);
    CV_ASSIGN_OR_RETURN(ObjectHandle h, StoreCertificate(t.session, der, label.empty() ? "ca-certificate" : label, id));
    rollback.Add(h);
  }
  return OkStatus();
}

void Report(Context& ctx, const OpenedToken& t, const ObjectInfo& key, bool made, const Issued& issued) {
  ObjectInfo cert{0, CKO_CERTIFICATE, std::nullopt, key.label, key.id};
  std::string uri = FormatPkcs11Uri(ObjectUri(t.token, cert));
  if (ctx.json) {
    *ctx.out << JsonObject().Add("certificate", uri).AddBool("key_created", made)
                    .AddInt("chain", issued.chain.size()).Build() << "\n";
  } else {
    *ctx.out << (made ? "generated key '" + key.label + "'\n" : "") << "enrolled " << uri << "\n";
  }
}

}  // namespace

Status CmdEnroll(Context& ctx) {
  CV_ASSIGN_OR_RETURN(std::string server, Required(*ctx.args, "server"));
  CV_ASSIGN_OR_RETURN(std::string profile, Required(*ctx.args, "profile"));
  CV_ASSIGN_OR_RETURN(std::string key_label, Required(*ctx.args, "key"));
  CV_RETURN_IF_ERROR(Required(*ctx.args, "subject").status());
  if (ctx.args->Has("auth-cert")) {
    return Status(StatusCode::kUnimplemented, Reason::kFunctionNotSupported,
                  "--auth-cert (TLS client key in the vault) is not implemented yet; use --enroll-code-file");
  }
  CV_ASSIGN_OR_RETURN(std::string code_file, Required(*ctx.args, "enroll-code-file"));
  CV_ASSIGN_OR_RETURN(EstUrl url, ParseEstUrl(server));
  CV_ASSIGN_OR_RETURN(std::string auth, BasicAuth(code_file));
  CV_ASSIGN_OR_RETURN(std::vector<Bytes> anchors, TrustAnchors(*ctx.args, url));
  ObjectSelector sel;
  sel.token = ctx.args->Get("token");
  sel.label = key_label;
  sel.object_class = CKO_PRIVATE_KEY;
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, sel.token, true, true));
  Rollback rollback(&t.session);
  bool made = false;
  CV_ASSIGN_OR_RETURN(ObjectInfo key, EnsureKey(ctx, t, sel, rollback, &made));
  CV_ASSIGN_OR_RETURN(Bytes spki, PublicKeyInfo(t.session, key));
  CV_ASSIGN_OR_RETURN(Bytes csr, VaultCsr(ctx, t, sel));
  CV_ASSIGN_OR_RETURN(Issued issued, Enroll(url, anchors, profile + "/simpleenroll", auth, csr, spki));
  CV_RETURN_IF_ERROR(StoreIssued(ctx, t, rollback, key, issued));
  rollback.Commit();
  Report(ctx, t, key, made, issued);
  return OkStatus();
}

}  // namespace certvault::cli
