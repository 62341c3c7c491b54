// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "cli/enroll_common.h"

#include <openssl/x509v3.h>

#include "cli/cert_io.h"
#include "cli/keys.h"
#include "cli/output.h"
#include "src/base/status_macros.h"

namespace certvault::cli {
namespace {

struct OpensslFree {
  void operator()(unsigned char* p) const { OPENSSL_free(p); }
};

}  // namespace

Result<std::string> Required(const Args& args, std::string_view name) {
  std::optional<std::string> v = args.Get(name);
  if (!v.has_value() || v->empty()) return InvalidArgumentError(args.verb() + " needs --" + std::string(name));
  return *v;
}

Result<bool> HasCertificate(Session& session, const Bytes& der) {
  AttributeSet tmpl;
  tmpl.SetUlong(CKA_CLASS, CKO_CERTIFICATE);
  tmpl.Set(CKA_VALUE, der);
  CV_ASSIGN_OR_RETURN(std::vector<ObjectHandle> found, session.Find(tmpl));
  return !found.empty();
}

// Enroll: cacerts and simpleenroll over verified TLS 1.3, then the checks.
Result<Issued> Enroll(const EstUrl& url, const std::vector<Bytes>& anchors, const std::string& op,
                      const std::string& auth, const Bytes& csr, const Bytes& spki, EstTls tls) {
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
    CV_RETURN_IF_ERROR(CheckAsAsked(der, csr));
    return Issued{der, chain};
  }
  return Status(StatusCode::kPermissionDenied, Reason::kDataInvalid, "the server returned no certificate for the key");
}

Status StoreChain(OpenedToken& t, Rollback& rollback, const Issued& issued) {
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

// Report: the stored certificate's URI (`what`: "enrolled" or "renewed").
void Report(Context& ctx, const OpenedToken& t, const ObjectInfo& key, bool made, const Issued& issued,
            std::string_view what) {
  ObjectInfo cert{0, CKO_CERTIFICATE, std::nullopt, key.label, key.id};
  std::string uri = FormatPkcs11Uri(ObjectUri(t.token, cert));
  if (ctx.json) {
    *ctx.out << JsonObject().Add("certificate", uri).AddBool("key_created", made)
                    .AddInt("chain", issued.chain.size()).Build() << "\n";
  } else {
    *ctx.out << (made ? "generated key '" + key.label + "'\n" : "") << what << " " << uri << "\n";
  }
}

// SubjectText: the certificate's subject in ParseSubject form, in DER order.
Result<std::string> SubjectText(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  std::string out;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    std::unique_ptr<unsigned char, OpensslFree> owned(utf8);
    if (len < 0) return Status(Reason::kDataInvalid, "the certificate's subject cannot be read");
    std::string value(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
    out += "/" + std::string(OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)))) + "=";
    for (char c : value) out += c == '/' ? std::string("\\/") : std::string(1, c);
  }
  return out;
}

// SansOf: the certificate's DNS and IPv4 subjectAltNames (what `enroll`
// puts into a CSR), for the re-enrollment CSR.
Result<std::vector<x509::SanEntry>> SansOf(X509* cert) {
  std::vector<x509::SanEntry> sans;
  ossl::UniquePtr<GENERAL_NAMES> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    std::string text;
    if (gn->type == GEN_DNS) {
      text = "DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                                  static_cast<size_t>(ASN1_STRING_length(gn->d.dNSName)));
    } else if (gn->type == GEN_IPADD && ASN1_STRING_length(gn->d.iPAddress) == 4) {
      const uint8_t* a = ASN1_STRING_get0_data(gn->d.iPAddress);
      text = "IP:" + std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." + std::to_string(a[3]);
    } else {
      continue;
    }
    CV_ASSIGN_OR_RETURN(x509::SanEntry san, x509::ParseSan(text));
    sans.push_back(std::move(san));
  }
  return sans;
}

// FindCurrent: the one certificate labelled --cert and its private key (same CKA_ID).
Result<Current> FindCurrent(OpenedToken& t, const ObjectSelector& cert_sel) {
  Current cur;
  CV_ASSIGN_OR_RETURN(cur.cert, FindOne(t.session, cert_sel, "certificate"));
  CV_ASSIGN_OR_RETURN(std::optional<Bytes> der, t.session.Attribute(cur.cert.handle, CKA_VALUE));
  if (!der.has_value()) return Status(Reason::kDataInvalid, "the certificate object has no value");
  cur.der = std::move(*der);
  const uint8_t* p = cur.der.data();
  cur.x509.reset(d2i_X509(nullptr, &p, static_cast<long>(cur.der.size())));  // NOLINT(runtime/int)
  if (cur.x509 == nullptr) return Status(Reason::kDataInvalid, "the stored certificate is not DER X.509");
  ObjectSelector key_sel;
  key_sel.id = cur.cert.id;
  key_sel.object_class = CKO_PRIVATE_KEY;
  CV_ASSIGN_OR_RETURN(cur.key, FindOne(t.session, key_sel, "private key of the certificate (same CKA_ID)"));
  return cur;
}

// Replace: the new certificate, with the old one's label and CKA_ID, takes
// the old object's place in one vault transaction (ReplaceCertificate, also
// through certvaultd): no reader ever sees neither or both, and a crash
// leaves the old or the new one.
Status Replace(OpenedToken& t, const Current& cur, const Bytes& der) {
  CV_ASSIGN_OR_RETURN(AttributeSet tmpl, CertificateTemplate(der, cur.cert.label, cur.cert.id));
  return t.session.backend()->ReplaceCertificate(t.session.handle(), cur.cert.handle, tmpl).status();
}

Result<std::unique_ptr<ProviderKey>> TlsKey(Context& ctx, OpenedToken& t, const Current& cur, const SecretBytes& pin) {
  Pkcs11Uri uri;
  uri.token = t.token.label;
  uri.object = cur.key.label;
  uri.id = cur.key.id;
  std::string module = ctx.args->Get("provider-module").value_or(DefaultProviderModule());
  return ProviderKey::Load(module, ctx.args->Get("vault"), std::move(uri), pin);
}

Result<CmpTarget> ParseCmpTarget(const Args& args, const std::string& server, const std::string& profile) {
  CmpTarget out;
  CV_ASSIGN_OR_RETURN(out.url, ParseCmpUrl(server));
  if (!profile.empty() && server.find('/', sizeof("https://")) == std::string::npos) {
    out.url.path = ".well-known/cmp/p/" + profile;
  }
  CV_ASSIGN_OR_RETURN(std::string trust, Required(args, "trust"));
  CV_ASSIGN_OR_RETURN(Bytes text, ReadFile(trust));
  CV_ASSIGN_OR_RETURN(out.anchors, ParseCertificates(text));
  return out;
}

}  // namespace certvault::cli
