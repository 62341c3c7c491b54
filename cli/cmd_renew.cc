// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// renew: re-enrollment authenticated by the current certificate, over EST
// (RFC 7030 §4.2.2 simplereenroll, mutual TLS with the vault key) or CMP
// (RFC 9483 §4.1.3 kur, protected by the vault key; mutual TLS too over
// https://). Without --rekey the key stays and the new certificate replaces
// the old object in one vault transaction. With --rekey a new key pair is
// made in the vault; the new certificate is stored beside it, and the old
// key pair and certificate are kept, relabelled "<label>.replaced-<serial>"
// (docs/cli.md, renew). On any failure the vault is as before.
#include <openssl/bn.h>

#include "cli/cert_io.h"
#include "cli/command_context.h"
#include "cli/enroll_common.h"
#include "cli/keys.h"
#include "cli/pin.h"
#include "src/base/status_macros.h"

namespace certvault::cli {
namespace {

// RenewTarget: where and how to renew, from the arguments.
struct RenewTarget {
  bool cmp = false;
  EstUrl est;
  CmpTarget cmp_target;
  std::vector<Bytes> anchors;
};

Result<RenewTarget> ParseRenewTarget(const Args& args) {
  CV_ASSIGN_OR_RETURN(std::string server, Required(args, "server"));
  std::string protocol = args.Get("protocol").value_or("est");
  if (protocol != "est" && protocol != "cmp") return InvalidArgumentError("renew: --protocol is est or cmp");
  RenewTarget out;
  out.cmp = protocol == "cmp";
  if (out.cmp) {
    CV_ASSIGN_OR_RETURN(out.cmp_target, ParseCmpTarget(args, server, args.Get("profile").value_or("")));
    out.anchors = out.cmp_target.anchors;
    return out;
  }
  CV_ASSIGN_OR_RETURN(out.est, ParseEstUrl(server));
  CV_ASSIGN_OR_RETURN(out.anchors, EstTrustAnchors(args, out.est));
  return out;
}

Pkcs11Uri KeyUri(const OpenedToken& t, const ObjectInfo& key) {
  Pkcs11Uri uri;
  uri.token = t.token.label;
  uri.object = key.label;
  uri.id = key.id;
  return uri;
}

// RenewOverCmp: a kur (RFC 9483 §4.1.3) protected by the current key and
// certificate; its POPO is signed by `new_key` (the current key itself
// without --rekey), loaded in the same library context.
Result<Issued> RenewOverCmp(const OpenedToken& t, const RenewTarget& target, const Current& cur,
                            const ProviderKey& old_key, const ObjectInfo& new_key_info, const SecretBytes& pin) {
  ossl::UniquePtr<EVP_PKEY> other;
  EVP_PKEY* new_key = old_key.key();
  if (new_key_info.handle != cur.key.handle) {
    CV_ASSIGN_OR_RETURN(other, old_key.LoadAnother(KeyUri(t, new_key_info), pin));
    new_key = other.get();
  }
  CmpRequest req;
  req.libctx = old_key.libctx();
  req.auth_cert = cur.x509.get();
  req.auth_key = old_key.key();
  req.new_key = new_key;
  CV_ASSIGN_OR_RETURN(CmpIssued got, CmpEnroll(target.cmp_target.url, target.anchors, req));
  CV_RETURN_IF_ERROR(VerifyChain(got.leaf, got.ca_certs, target.anchors));
  return Issued{std::move(got.leaf), std::move(got.ca_certs)};
}

// RequestRenewal: the new certificate for `key` (the current key, or the
// new one of --rekey), with the current certificate's subject and names,
// authenticated by the current key through the provider.
Result<Issued> RequestRenewal(Context& ctx, OpenedToken& t, const RenewTarget& target, const Current& cur,
                              const ObjectInfo& key, const SecretBytes& pin) {
  CV_ASSIGN_OR_RETURN(std::unique_ptr<ProviderKey> old_key, TlsKey(ctx, t, cur, pin));
  CV_ASSIGN_OR_RETURN(Bytes spki, PublicKeyInfo(t.session, key));
  Result<Issued> issued = InternalError("no renewal request made");
  if (target.cmp) {
    issued = RenewOverCmp(t, target, cur, *old_key, key, pin);
  } else {
    CV_ASSIGN_OR_RETURN(std::string subject, SubjectText(cur.x509.get()));
    CV_ASSIGN_OR_RETURN(std::vector<x509::SanEntry> sans, SansOf(cur.x509.get()));
    ObjectSelector key_sel;
    key_sel.id = key.id;
    key_sel.object_class = CKO_PRIVATE_KEY;
    CV_ASSIGN_OR_RETURN(Bytes csr, VaultCsrFor(ctx, t, key_sel, subject, std::move(sans)));
    EstTls tls{{}, true, old_key->key(), cur.x509.get(), old_key->libctx()};
    issued = Enroll(target.est, target.anchors, "simplereenroll", "", csr, spki, tls);
  }
  CV_RETURN_IF_ERROR(issued.status());
  CV_ASSIGN_OR_RETURN(Bytes got, CertificatePublicKeyInfo(issued->leaf));
  if (got != spki) {
    return Status(StatusCode::kPermissionDenied, Reason::kDataInvalid, "the server returned no certificate for the key");
  }
  // RFC 9483 §4.1.3 / RFC 7030 §4.2.2: the subject stays; a CA that changes it is not followed.
  const uint8_t* p = issued->leaf.data();
  ossl::UniquePtr<X509> leaf(d2i_X509(nullptr, &p, static_cast<long>(issued->leaf.size())));  // NOLINT(runtime/int)
  if (leaf == nullptr ||
      X509_NAME_cmp(X509_get_subject_name(leaf.get()), X509_get_subject_name(cur.x509.get())) != 0) {
    return Status(StatusCode::kPermissionDenied, Reason::kDataInvalid, "the renewed certificate has another subject");
  }
  return issued;
}

Status Relabel(Session& session, ObjectHandle object, const std::string& label) {
  AttributeSet tmpl;
  tmpl.SetString(CKA_LABEL, label);
  return session.backend()->SetAttributeValue(session.handle(), object, tmpl);
}

// Handles: the objects of a key pair and its certificate (public key if present).
std::vector<ObjectHandle> PairObjects(Session& session, const Bytes& id, ObjectHandle priv, ObjectHandle cert) {
  std::vector<ObjectHandle> out{cert, priv};
  AttributeSet tmpl;
  tmpl.SetUlong(CKA_CLASS, CKO_PUBLIC_KEY);
  tmpl.Set(CKA_ID, id);
  Result<std::vector<ObjectHandle>> pubs = session.Find(tmpl);
  if (pubs.ok()) out.insert(out.end(), pubs->begin(), pubs->end());
  return out;
}

std::string SerialHex(X509* cert) {
  ossl::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  char* hex = bn != nullptr ? BN_bn2hex(bn.get()) : nullptr;
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  return out;
}

// SwapLabels: the old key pair and certificate step aside
// ("<label>.replaced-<serial>"), then the new certificate takes the old
// certificate's label and the new keys the old key's label. A failure puts
// the old labels back (the caller's rollback removes the new objects).
Status SwapLabels(Session& session, const Current& cur, ObjectHandle new_cert, const std::vector<ObjectHandle>& new_keys) {
  std::vector<ObjectHandle> old = PairObjects(session, cur.key.id, cur.key.handle, cur.cert.handle);
  std::string aside = cur.cert.label + ".replaced-" + SerialHex(cur.x509.get());
  size_t moved = 0;
  Status st = OkStatus();
  for (; moved < old.size() && st.ok(); ++moved) st = Relabel(session, old[moved], aside);
  if (st.ok()) st = Relabel(session, new_cert, cur.cert.label);
  for (size_t i = 0; i < new_keys.size() && st.ok(); ++i) st = Relabel(session, new_keys[i], cur.key.label);
  if (st.ok()) return st;
  for (size_t i = 0; i < moved; ++i) (void)Relabel(session, old[i], i == 0 ? cur.cert.label : cur.key.label);
  return st;
}

// Rekey: a new key pair (--type, default ec:p256) and its certificate; the
// old ones kept under another label. All-or-nothing.
Status Rekey(Context& ctx, OpenedToken& t, const RenewTarget& target, const Current& cur, const SecretBytes& pin) {
  Rollback rollback(&t.session);
  ObjectInfo pub;
  std::string pending = cur.cert.label + ".rekeying";
  CV_ASSIGN_OR_RETURN(ObjectInfo key, GenerateVaultKey(ctx, t, pending, ctx.args->Get("type").value_or("ec:p256"),
                                                       std::nullopt, &pub));
  rollback.Add(key.handle);
  rollback.Add(pub.handle);
  CV_ASSIGN_OR_RETURN(Issued issued, RequestRenewal(ctx, t, target, cur, key, pin));
  CV_ASSIGN_OR_RETURN(ObjectHandle cert, StoreCertificate(t.session, issued.leaf, pending, key.id));
  rollback.Add(cert);
  CV_RETURN_IF_ERROR(StoreChain(t, rollback, issued));
  CV_RETURN_IF_ERROR(SwapLabels(t.session, cur, cert, {key.handle, pub.handle}));
  rollback.Commit();
  key.label = cur.cert.label;  // Report names the certificate: its label and the new key's CKA_ID
  Report(ctx, t, key, true, issued, "rekeyed");
  return OkStatus();
}

}  // namespace

Status CmdRenew(Context& ctx) {
  CV_ASSIGN_OR_RETURN(std::string label, Required(*ctx.args, "cert"));
  CV_ASSIGN_OR_RETURN(RenewTarget target, ParseRenewTarget(*ctx.args));
  CV_ASSIGN_OR_RETURN(SecretBytes pin, ObtainPin(*ctx.args, PinKind::kUser));
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, ctx.args->Get("token"), true, false));
  CV_RETURN_IF_ERROR(t.session.Login(UserType::kUser, pin));
  CV_ASSIGN_OR_RETURN(ObjectSelector cert_sel, MakeSelector(label, std::nullopt, ctx.args->Get("token")));
  cert_sel.object_class = CKO_CERTIFICATE;
  CV_ASSIGN_OR_RETURN(Current cur, FindCurrent(t, cert_sel));
  if (ctx.args->Has("rekey")) return Rekey(ctx, t, target, cur, pin);
  CV_ASSIGN_OR_RETURN(Issued issued, RequestRenewal(ctx, t, target, cur, cur.key, pin));
  Rollback rollback(&t.session);
  CV_RETURN_IF_ERROR(StoreChain(t, rollback, issued));
  CV_RETURN_IF_ERROR(Replace(t, cur, issued.leaf));
  rollback.Commit();
  ObjectInfo stored = cur.cert;  // the label and CKA_ID the new certificate took over
  Report(ctx, t, stored, false, issued, "renewed");
  return OkStatus();
}

}  // namespace certvault::cli
