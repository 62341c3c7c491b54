// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// enroll: first enrollment over EST (RFC 7030 §4.2.1 simpleenroll) with a
// one-time enrollment code (HTTP Basic, RFC 7617). The key is made in the
// vault if absent, the CSR is signed inside it, the returned certificate is
// checked (the key's, chains to the trust anchor) and stored with its chain
// all-or-nothing: on any failure the vault is as before (a key made by this
// run is destroyed again).
#include <openssl/x509v3.h>

#include <sstream>

#include "cli/cert_io.h"
#include "cli/command_context.h"
#include "cli/cmd_enroll_keygen.h"
#include "cli/cmp_client.h"
#include "cli/enroll_common.h"
#include "cli/est_client.h"
#include "cli/keys.h"
#include "cli/output.h"
#include "cli/pin.h"
#include "cli/provider_key.h"
#include "cli/rollback.h"
#include "src/base/status_macros.h"

namespace certvault::cli {
namespace {

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

// ReadCode: the id and password of an enrollment code file (what
// `certvault-ca enroll-code` printed, or one line `id:password`).
Status ReadCode(const std::string& path, std::string& out_id, SecretBytes& out_password) {
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
    OPENSSL_cleanse(line.data(), line.size());
  }
  OPENSSL_cleanse(text.data(), text.size());
  if (id.empty() || password.empty()) return InvalidArgumentError(path + ": no enrollment code (id and password)");
  out_id = id;
  out_password = SecretBytes(password, SecretAccess::Get());
  OPENSSL_cleanse(password.data(), password.size());
  return OkStatus();
}

// BasicAuth: the HTTP Basic credentials of a code file.
Result<std::string> BasicAuth(const std::string& path) {
  std::string id;
  SecretBytes password;
  CV_RETURN_IF_ERROR(ReadCode(path, id, password));
  std::string pair = id + ":" + std::string(password.AsStringView(SecretAccess::Get()));
  std::string out = "Basic " + Base64(AsSpan(pair));
  OPENSSL_cleanse(pair.data(), pair.size());
  return out;
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


Status StoreIssued(OpenedToken& t, Rollback& rollback, const ObjectInfo& key, const Issued& issued) {
  CV_ASSIGN_OR_RETURN(ObjectHandle leaf, StoreCertificate(t.session, issued.leaf, key.label, key.id));
  rollback.Add(leaf);
  return StoreChain(t, rollback, issued);
}



// ClientAuth: a vault certificate and its key as the TLS client identity.
struct ClientAuth {
  Current cert;
  std::unique_ptr<ProviderKey> key;
  EstTls tls;
};

// LoadClientAuth: --auth-cert (a label or pkcs11: URI of a certificate in
// the vault, e.g. a manufacturer's bootstrap certificate) and its key.
Status LoadClientAuth(Context& ctx, OpenedToken& t, const std::string& name, const SecretBytes& pin, ClientAuth* out) {
  CV_ASSIGN_OR_RETURN(ObjectSelector cert_sel, MakeSelector(name, std::nullopt, ctx.args->Get("token")));
  cert_sel.object_class = CKO_CERTIFICATE;
  CV_ASSIGN_OR_RETURN(out->cert, FindCurrent(t, cert_sel));
  CV_ASSIGN_OR_RETURN(out->key, TlsKey(ctx, t, out->cert, pin));
  out->tls.client_key = out->key->key();
  out->tls.client_cert = out->cert.x509.get();
  out->tls.libctx = out->key->libctx();
  return OkStatus();
}


// EnrollOverCmp: RFC 9483 §4.1.1 ir with a one-time code (MAC; the POPO
// signed by the vault key through the provider) or §4.1.4 p10cr of the
// vault CSR signed by --auth-cert; then the same checks as over EST.
Result<Issued> EnrollOverCmp(Context& ctx, OpenedToken& t, const ObjectInfo& key, const CmpTarget& target,
                             const Bytes& csr, const Bytes& spki, const ClientAuth& client, const SecretBytes& pin) {
  CmpRequest req;
  req.csr = &csr;
  std::unique_ptr<ProviderKey> new_key;
  std::string code_id;
  SecretBytes secret;
  if (client.key != nullptr) {
    req.libctx = client.key->libctx();
    req.auth_cert = client.cert.x509.get();
    req.auth_key = client.key->key();
  } else {
    CV_RETURN_IF_ERROR(ReadCode(*ctx.args->Get("enroll-code-file"), req.code_id, secret));
    Current cur;
    cur.key = key;
    CV_ASSIGN_OR_RETURN(new_key, TlsKey(ctx, t, cur, pin));
    req.libctx = new_key->libctx();
    req.new_key = new_key->key();
    req.code_secret = &secret;
  }
  CV_ASSIGN_OR_RETURN(CmpIssued got, CmpEnroll(target.url, target.anchors, req));
  CV_ASSIGN_OR_RETURN(Bytes leaf_spki, CertificatePublicKeyInfo(got.leaf));
  if (leaf_spki != spki) {
    return Status(StatusCode::kPermissionDenied, Reason::kDataInvalid, "the server returned no certificate for the key");
  }
  CV_RETURN_IF_ERROR(VerifyChain(got.leaf, got.ca_certs, target.anchors));
  return Issued{std::move(got.leaf), std::move(got.ca_certs)};
}

}  // namespace

Result<std::vector<Bytes>> EstTrustAnchors(const Args& args, const EstUrl& url) {
  std::optional<std::string> file = args.Get("trust");
  std::optional<std::string> pin = args.Get("trust-fingerprint");
  if (file.has_value() == pin.has_value()) return InvalidArgumentError(args.verb() + ": give exactly one of --trust FILE and --trust-fingerprint SHA256");
  if (file.has_value()) {
    CV_ASSIGN_OR_RETURN(Bytes text, ReadFile(*file));
    return ParseCertificates(text);
  }
  CV_ASSIGN_OR_RETURN(Bytes anchor, FingerprintAnchor(url, *pin));
  return std::vector<Bytes>{anchor};
}

Status CmdEnroll(Context& ctx) {
  CV_ASSIGN_OR_RETURN(std::string server, Required(*ctx.args, "server"));
  CV_ASSIGN_OR_RETURN(std::string profile, Required(*ctx.args, "profile"));
  CV_ASSIGN_OR_RETURN(std::string key_label, Required(*ctx.args, "key"));
  CV_RETURN_IF_ERROR(Required(*ctx.args, "subject").status());
  std::optional<std::string> auth_cert = ctx.args->Get("auth-cert");
  std::optional<std::string> code_file = ctx.args->Get("enroll-code-file");
  if (auth_cert.has_value() == code_file.has_value()) {
    return InvalidArgumentError("enroll: give exactly one of --enroll-code-file F and --auth-cert CERT");
  }
  std::string protocol = ctx.args->Get("protocol").value_or("est");
  if (protocol != "est" && protocol != "cmp") return InvalidArgumentError("enroll: --protocol is est or cmp");
  EstUrl url;
  CmpTarget cmp;
  std::string auth;
  std::vector<Bytes> anchors;
  if (protocol == "cmp") {
    CV_ASSIGN_OR_RETURN(cmp, ParseCmpTarget(*ctx.args, server, profile));
  } else {
    CV_ASSIGN_OR_RETURN(url, ParseEstUrl(server));
    if (code_file.has_value()) {
      CV_ASSIGN_OR_RETURN(auth, BasicAuth(*code_file));
    }
    CV_ASSIGN_OR_RETURN(anchors, EstTrustAnchors(*ctx.args, url));
  }
  ObjectSelector sel;
  sel.token = ctx.args->Get("token");
  sel.label = key_label;
  sel.object_class = CKO_PRIVATE_KEY;
  CV_ASSIGN_OR_RETURN(SecretBytes pin, ObtainPin(*ctx.args, PinKind::kUser));
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, sel.token, true, false));
  CV_RETURN_IF_ERROR(t.session.Login(UserType::kUser, pin));
  ClientAuth client;
  if (auth_cert.has_value()) CV_RETURN_IF_ERROR(LoadClientAuth(ctx, t, *auth_cert, pin, &client));
  if (ctx.args->Has("server-keygen")) {
    if (protocol != "est") return InvalidArgumentError("enroll --server-keygen: EST only (--protocol est)");
    return EnrollServerKeygen(ctx, t, KeygenTarget{url, anchors, auth, client.tls, profile, key_label});
  }
  Rollback rollback(&t.session);
  bool made = false;
  CV_ASSIGN_OR_RETURN(ObjectInfo key, EnsureKey(ctx, t, sel, rollback, &made));
  CV_ASSIGN_OR_RETURN(Bytes spki, PublicKeyInfo(t.session, key));
  CV_ASSIGN_OR_RETURN(Bytes csr, VaultCsr(ctx, t, sel));
  Result<Issued> issued = protocol == "cmp"
                              ? EnrollOverCmp(ctx, t, key, cmp, csr, spki, client, pin)
                              : Enroll(url, anchors, profile + "/simpleenroll", auth, csr, spki, client.tls);
  CV_RETURN_IF_ERROR(issued.status());
  CV_RETURN_IF_ERROR(StoreIssued(t, rollback, key, *issued));
  rollback.Commit();
  Report(ctx, t, key, made, *issued, "enrolled");
  return OkStatus();
}

// CmdRevoke: CMP rr (RFC 9483 §4.2) for a certificate in the vault,
// protected by its own key through certvault's provider (never a key file).
Status CmdRevoke(Context& ctx) {
  CV_ASSIGN_OR_RETURN(std::string server, Required(*ctx.args, "server"));
  CV_ASSIGN_OR_RETURN(std::string label, Required(*ctx.args, "cert"));
  CV_ASSIGN_OR_RETURN(CmpUrl url, ParseCmpUrl(server));
  CV_ASSIGN_OR_RETURN(int reason, ParseRevocationReason(ctx.args->Get("reason").value_or("unspecified")));
  CV_ASSIGN_OR_RETURN(std::string trust, Required(*ctx.args, "trust"));
  CV_ASSIGN_OR_RETURN(Bytes trust_text, ReadFile(trust));
  CV_ASSIGN_OR_RETURN(std::vector<Bytes> anchors, ParseCertificates(trust_text));
  CV_ASSIGN_OR_RETURN(SecretBytes pin, ObtainPin(*ctx.args, PinKind::kUser));
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, ctx.args->Get("token"), true, false));
  CV_RETURN_IF_ERROR(t.session.Login(UserType::kUser, pin));
  CV_ASSIGN_OR_RETURN(ObjectSelector cert_sel, MakeSelector(label, std::nullopt, ctx.args->Get("token")));
  cert_sel.object_class = CKO_CERTIFICATE;
  CV_ASSIGN_OR_RETURN(Current cur, FindCurrent(t, cert_sel));
  CV_ASSIGN_OR_RETURN(std::unique_ptr<ProviderKey> key, TlsKey(ctx, t, cur, pin));
  CV_RETURN_IF_ERROR(CmpRevoke(url, anchors, cur.x509.get(), key->key(), key->libctx(), reason));
  ossl::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cur.x509.get()), nullptr));
  char* hex = bn != nullptr ? BN_bn2hex(bn.get()) : nullptr;
  std::string serial = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  if (ctx.json) {
    *ctx.out << JsonObject().Add("revoked", serial).AddInt("reason", static_cast<uint64_t>(reason)).Build() << "\n";
  } else {
    *ctx.out << "revoked certificate '" << cur.cert.label << "' (serial " << serial << ")\n";
  }
  return OkStatus();
}

}  // namespace certvault::cli
