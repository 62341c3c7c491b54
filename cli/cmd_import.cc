// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Import verbs: import-cert, import-p12 (and StoreCertificate, which
// selfsign --store shares). Imports are all-or-nothing: objects created
// before a failure are destroyed again.
#include <openssl/pkcs12.h>

#include <cstdlib>

#include "cli/cert_io.h"
#include "cli/command_context.h"
#include "cli/rollback.h"
#include "cli/keys.h"
#include "cli/output.h"
#include "src/base/ct.h"
#include "src/base/status_macros.h"
#include "src/crypto/ossl_der.h"
#include "src/crypto/ossl_error.h"

namespace certvault::cli {
namespace {

struct KeyMatch {
  std::string label;
  Bytes id;
};

// MatchingKey: a key object on the token whose public key is `spki`.
Result<std::optional<KeyMatch>> MatchingKey(Session& session, const Bytes& spki) {
  for (ObjectClass cls : {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY}) {
    AttributeSet tmpl;
    tmpl.SetUlong(CKA_CLASS, cls);
    CV_ASSIGN_OR_RETURN(std::vector<ObjectHandle> keys, session.Find(tmpl));
    for (ObjectHandle h : keys) {
      CV_ASSIGN_OR_RETURN(std::optional<Bytes> info, session.Attribute(h, CKA_PUBLIC_KEY_INFO));
      if (!info.has_value() || *info != spki) continue;
      CV_ASSIGN_OR_RETURN(ObjectInfo obj, DescribeObject(session, h));
      return std::optional<KeyMatch>(KeyMatch{obj.label, obj.id});
    }
  }
  return std::optional<KeyMatch>();
}

// CertIdentity: the label and CKA_ID a certificate is stored under.
Result<KeyMatch> CertIdentity(Session& session, const Bytes& der, const std::optional<std::string>& label) {
  CV_ASSIGN_OR_RETURN(Bytes spki, CertificatePublicKeyInfo(der));
  CV_ASSIGN_OR_RETURN(std::optional<KeyMatch> key, MatchingKey(session, spki));
  if (key.has_value()) {
    if (label.has_value()) key->label = *label;
    return *key;
  }
  CV_ASSIGN_OR_RETURN(Bytes id, KeyIdFromSpki(spki));
  std::string name = label.value_or(CommonNameOf(der));
  return KeyMatch{name.empty() ? "certificate" : name, id};
}

Result<SecretBytes> P12Password(Args& args) {
  if (std::optional<SecretBytes> pass = args.TakeSecret("p12-pass")) return std::move(*pass);
  if (std::optional<std::string> file = args.Get("p12-pass-file")) {
    CV_ASSIGN_OR_RETURN(SecretBytes contents, ReadSecretFile(*file, 4096));
    return PinFromFileContents(contents);
  }
  if (const char* env = std::getenv("CERTVAULT_P12_PASS"); env != nullptr) {
    return SecretBytes(std::string_view(env), SecretAccess::Get());
  }
  return SecretBytes();
}

struct P12Contents {
  ossl::UniquePtr<EVP_PKEY> key;
  ossl::UniquePtr<X509> cert;
  ossl::X509StackPtr chain;
};

Result<P12Contents> ParseP12(const SecretBytes& file, const SecretBytes& password) {
  std::span<const uint8_t> bytes = file.Bytes(SecretAccess::Get());
  const uint8_t* p = bytes.data();
  ossl::UniquePtr<PKCS12> p12(d2i_PKCS12(nullptr, &p, static_cast<long>(bytes.size())));  // NOLINT(runtime/int)
  if (p12 == nullptr) {
    ossl::ClearErrors();
    return Status(Reason::kDataInvalid, "the file is not a PKCS#12 (DER) file");
  }
  SecretBytes pass(password.size() + 1);  // NUL-terminated copy, wiped on free
  std::copy_n(password.Bytes(SecretAccess::Get()).begin(), password.size(), pass.MutableBytes(SecretAccess::Get()).begin());
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* chain = nullptr;
  const char* pass_str = reinterpret_cast<const char*>(pass.Bytes(SecretAccess::Get()).data());
  if (PKCS12_parse(p12.get(), pass_str, &key, &cert, &chain) != 1) {
    ossl::ClearErrors();
    return Status(StatusCode::kUnauthenticated, Reason::kPinIncorrect,
                  "cannot open the PKCS#12 file: wrong --p12-pass, or legacy (RC2/3DES) encryption");
  }
  P12Contents out{ossl::UniquePtr<EVP_PKEY>(key), ossl::UniquePtr<X509>(cert), ossl::X509StackPtr(chain)};
  if (out.key == nullptr) return Status(Reason::kDataInvalid, "the PKCS#12 file holds no private key");
  return out;
}

Result<Bytes> CertDer(X509* cert) { return ossl::ToDer<X509, i2d_X509>(cert, "i2d_X509"); }

Status StoreCerts(Context& ctx, OpenedToken& t, Rollback& rollback, const std::vector<Bytes>& certs,
                  const std::optional<std::string>& label) {
  for (const Bytes& der : certs) {
    CV_ASSIGN_OR_RETURN(KeyMatch who, CertIdentity(t.session, der, label));
    CV_ASSIGN_OR_RETURN(ObjectHandle h, StoreCertificate(t.session, der, who.label, who.id));
    rollback.Add(h);
    ObjectInfo info{h, CKO_CERTIFICATE, std::nullopt, who.label, who.id};
    *ctx.out << "imported " << FormatPkcs11Uri(ObjectUri(t.token, info)) << "\n";
  }
  return OkStatus();
}

Status ImportKey(Context& ctx, OpenedToken& t, Rollback& rollback, EVP_PKEY* key, const std::string& label, const Bytes& id) {
  CV_ASSIGN_OR_RETURN(KeyTemplates tmpl, ImportTemplates(key, label, id));
  CV_ASSIGN_OR_RETURN(ObjectHandle priv, ctx.backend->CreateObject(t.session.handle(), tmpl.private_tmpl));
  rollback.Add(priv);
  CV_ASSIGN_OR_RETURN(ObjectHandle pub, ctx.backend->CreateObject(t.session.handle(), tmpl.public_tmpl));
  rollback.Add(pub);
  ObjectInfo info{priv, CKO_PRIVATE_KEY, std::nullopt, label, id};
  *ctx.out << "imported " << FormatPkcs11Uri(ObjectUri(t.token, info)) << "\n";
  return OkStatus();
}

Result<std::string> RequireFile(const Args& args, std::string_view verb) {
  if (args.positional().size() != 1) return InvalidArgumentError(std::string(verb) + " needs exactly one FILE");
  return args.positional()[0];
}

}  // namespace

Result<ObjectHandle> StoreCertificate(Session& session, std::span<const uint8_t> der, std::string_view label,
                                      const Bytes& id) {
  CV_ASSIGN_OR_RETURN(AttributeSet tmpl, CertificateTemplate(der, label, id));
  return session.backend()->CreateObject(session.handle(), tmpl);
}

Status CmdImportCert(Context& ctx) {
  CV_ASSIGN_OR_RETURN(std::string path, RequireFile(*ctx.args, "import-cert"));
  CV_ASSIGN_OR_RETURN(Bytes file, ReadFile(path));
  CV_ASSIGN_OR_RETURN(std::vector<Bytes> certs, ParseCertificates(file));
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, ctx.args->Get("token"), true, true));
  Rollback rollback(&t.session);
  CV_RETURN_IF_ERROR(StoreCerts(ctx, t, rollback, certs, ctx.args->Get("label")));
  rollback.Commit();
  return OkStatus();
}

Status CmdImportP12(Context& ctx) {
  CV_ASSIGN_OR_RETURN(std::string path, RequireFile(*ctx.args, "import-p12"));
  CV_ASSIGN_OR_RETURN(SecretBytes file, ReadSecretFile(path));
  CV_ASSIGN_OR_RETURN(SecretBytes password, P12Password(*ctx.args));
  CV_ASSIGN_OR_RETURN(P12Contents p12, ParseP12(file, password));
  std::vector<Bytes> certs;
  if (p12.cert != nullptr) {
    CV_ASSIGN_OR_RETURN(Bytes der, CertDer(p12.cert.get()));
    certs.push_back(std::move(der));
  }
  for (int i = 0; p12.chain != nullptr && i < sk_X509_num(p12.chain.get()); ++i) {
    CV_ASSIGN_OR_RETURN(Bytes der, CertDer(sk_X509_value(p12.chain.get(), i)));
    certs.push_back(std::move(der));
  }
  int spki_len = i2d_PUBKEY(p12.key.get(), nullptr);
  if (spki_len <= 0) return ossl::OpenSslError("i2d_PUBKEY");
  Bytes spki(static_cast<size_t>(spki_len));
  uint8_t* sp = spki.data();
  if (i2d_PUBKEY(p12.key.get(), &sp) != spki_len) return ossl::OpenSslError("i2d_PUBKEY");
  CV_ASSIGN_OR_RETURN(Bytes id, KeyIdFromSpki(spki));
  std::string label = ctx.args->Get("label").value_or(certs.empty() ? "" : CommonNameOf(certs[0]));
  if (label.empty()) label = "imported-key";
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, ctx.args->Get("token"), true, true));
  Rollback rollback(&t.session);
  CV_RETURN_IF_ERROR(ImportKey(ctx, t, rollback, p12.key.get(), label, id));
  CV_RETURN_IF_ERROR(StoreCerts(ctx, t, rollback, certs, std::nullopt));
  rollback.Commit();
  return OkStatus();
}

}  // namespace certvault::cli
