// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Key verbs: keygen, csr, selfsign. Private keys never leave the vault: the
// CSR and certificate signatures are made by C_Sign inside it.
#include <charconv>

#include "cli/command_context.h"
#include "cli/keys.h"
#include "cli/output.h"
#include "src/base/status_macros.h"
#include "src/crypto/random.h"
#include "src/crypto/x509_build.h"
#include "src/model/vendor_attributes.h"
#include "src/provision/provision.h"

namespace certvault::cli {
namespace {

struct SigningKey {
  ObjectInfo info;
  Bytes spki;
  x509::SignatureAlgorithm algorithm;
};

Result<SigningKey> LoadSigningKey(Context& ctx, OpenedToken& t, const ObjectSelector& sel) {
  CV_ASSIGN_OR_RETURN(ObjectInfo info, FindOne(t.session, sel, "private key"));
  CV_ASSIGN_OR_RETURN(Bytes spki, PublicKeyInfo(t.session, info));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<EVP_PKEY> key, x509::ParsePublicKeyInfo(spki));
  CV_ASSIGN_OR_RETURN(x509::SignatureAlgorithm alg, x509::DefaultSignatureAlgorithm(key.get()));
  return SigningKey{std::move(info), std::move(spki), alg};
}

Result<ObjectSelector> KeySelector(Context& ctx) {
  CV_ASSIGN_OR_RETURN(ObjectSelector sel, MakeSelector(ctx.args->Get("key"), ctx.args->Get("id"), ctx.args->Get("token")));
  if (sel.object_class.has_value() && *sel.object_class != CKO_PRIVATE_KEY) {
    return InvalidArgumentError("--key must name a private key (type=private)");
  }
  sel.object_class = CKO_PRIVATE_KEY;
  return sel;
}

Result<std::vector<x509::SanEntry>> ParseSans(const Args& args) {
  std::vector<x509::SanEntry> sans;
  for (const std::string& text : args.GetAll("san")) {
    CV_ASSIGN_OR_RETURN(x509::SanEntry san, x509::ParseSan(text));
    sans.push_back(std::move(san));
  }
  return sans;
}

Result<std::string> RequireSubject(const Args& args) {
  std::optional<std::string> subject = args.Get("subject");
  if (!subject.has_value()) return InvalidArgumentError("--subject is required, e.g. --subject \"/CN=www.example.com/O=Example\"");
  return *subject;
}

Result<uint32_t> ParseDays(const std::optional<std::string>& text) {
  if (!text.has_value()) return 365u;
  uint32_t days = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), days);
  if (ec != std::errc() || end != text->data() + text->size() || days < 1 || days > 36500) {
    return InvalidArgumentError("--days must be 1..36500");
  }
  return days;
}

// AssignDefaultId: CKA_ID = SHA-1 of the public value, on both halves.
Result<Bytes> AssignDefaultId(Context& ctx, Session& session, const Backend::KeyPair& pair) {
  CV_ASSIGN_OR_RETURN(std::optional<Bytes> spki, session.Attribute(pair.public_key, CKA_PUBLIC_KEY_INFO));
  if (!spki.has_value() || spki->empty()) {
    CV_ASSIGN_OR_RETURN(spki, session.Attribute(pair.private_key, CKA_PUBLIC_KEY_INFO));
  }
  if (!spki.has_value() || spki->empty()) return InternalError("the new key has no CKA_PUBLIC_KEY_INFO");
  CV_ASSIGN_OR_RETURN(Bytes id, KeyIdFromSpki(*spki));
  AttributeSet tmpl;
  tmpl.Set(CKA_ID, id);
  CV_RETURN_IF_ERROR(ctx.backend->SetAttributeValue(session.handle(), pair.public_key, tmpl));
  CV_RETURN_IF_ERROR(ctx.backend->SetAttributeValue(session.handle(), pair.private_key, tmpl));
  return id;
}

}  // namespace

Result<ObjectInfo> GenerateVaultKey(Context& ctx, OpenedToken& t, const std::string& label, const std::string& type,
                                    std::optional<Bytes> id, ObjectInfo* pub_out) {
  CV_ASSIGN_OR_RETURN(KeyGenSpec spec, ParseKeyType(type));
  std::optional<std::string> op = ctx.args->Get("op");
  if (op.has_value() && !id.has_value()) {
    // A quorum-protected key cannot be modified after its creation, so its
    // CKA_ID cannot be set from the public value afterwards: a random one.
    Bytes random(20);
    CV_RETURN_IF_ERROR(crypto::RandomBytes(random));
    id = std::move(random);
  }
  KeyTemplates tmpl = KeyGenTemplates(spec, label, id);
  // Issue 16: an approved create-key operation makes a quorum-protected key.
  if (op.has_value()) tmpl.private_tmpl.Set(kCkaCvQuorumOp, AsSpan(*op));
  CV_ASSIGN_OR_RETURN(Backend::KeyPair pair, ctx.backend->GenerateKeyPair(t.session.handle(), Mechanism{spec.mechanism, {}},
                                                                          tmpl.public_tmpl, tmpl.private_tmpl));
  if (!id.has_value()) {
    CV_ASSIGN_OR_RETURN(id, AssignDefaultId(ctx, t.session, pair));
  }
  if (pub_out != nullptr) *pub_out = ObjectInfo{pair.public_key, CKO_PUBLIC_KEY, spec.key_type, label, *id};
  return ObjectInfo{pair.private_key, CKO_PRIVATE_KEY, spec.key_type, label, *id};
}

Result<Bytes> VaultCsr(Context& ctx, OpenedToken& t, const ObjectSelector& sel) {
  CV_ASSIGN_OR_RETURN(std::string subject, RequireSubject(*ctx.args));
  CV_ASSIGN_OR_RETURN(std::vector<x509::SanEntry> sans, ParseSans(*ctx.args));
  return VaultCsrFor(ctx, t, sel, subject, std::move(sans));
}

// AttestationAttribute: --attest: the key's attestation (certvault attest)
// and the vault identity certificate as CSR attribute cvKeyAttestationChain,
// for CA profiles with require_attestation (docs/formats/update-package.md).
Result<std::pair<std::string, Bytes>> AttestationAttribute(Context& ctx, OpenedToken& t, ObjectHandle key) {
  CV_ASSIGN_OR_RETURN(Bytes attestation, ctx.backend->Attest(t.session.handle(), key));
  CV_ASSIGN_OR_RETURN(Backend::VaultIdentity id, ctx.backend->GetVaultIdentity(t.session.handle()));
  CV_ASSIGN_OR_RETURN(Bytes chain, provision::EncodeAttestationChain({attestation, id.identity_cert}));
  return std::make_pair(std::string(provision::kOidArc) + ".4.2", std::move(chain));
}

Result<Bytes> VaultCsrFor(Context& ctx, OpenedToken& t, const ObjectSelector& sel, const std::string& subject,
                          std::vector<x509::SanEntry> sans) {
  CV_ASSIGN_OR_RETURN(SigningKey key, LoadSigningKey(ctx, t, sel));
  x509::CsrSpec spec{key.spki, subject, std::move(sans), key.algorithm, {}};
  if (ctx.args->Has("attest")) {
    CV_ASSIGN_OR_RETURN(auto attr, AttestationAttribute(ctx, t, key.info.handle));
    spec.attributes.push_back(std::move(attr));
  }
  return x509::BuildCsr(spec, VaultSigner(&t.session, key.info.handle, key.algorithm));
}

Status CmdKeygen(Context& ctx) {
  std::optional<std::string> label = ctx.args->Get("label");
  std::optional<std::string> type = ctx.args->Get("type");
  if (!label.has_value() || !type.has_value()) return InvalidArgumentError("keygen needs --label NAME and --type TYPE");
  CV_RETURN_IF_ERROR(ParseKeyType(*type).status());
  std::optional<Bytes> id;
  if (std::optional<std::string> hex = ctx.args->Get("id")) {
    Bytes raw;
    if (!HexDecode(*hex, &raw) || raw.empty()) return InvalidArgumentError("--id must be hex, e.g. --id 01a2");
    id = std::move(raw);
  }
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, ctx.args->Get("token"), true, true));
  ObjectInfo pub;
  CV_ASSIGN_OR_RETURN(ObjectInfo priv, GenerateVaultKey(ctx, t, *label, *type, id, &pub));
  if (ctx.json) {
    *ctx.out << JsonObject().Add("private", FormatPkcs11Uri(ObjectUri(t.token, priv)))
                    .Add("public", FormatPkcs11Uri(ObjectUri(t.token, pub))).Add("id", HexEncode(priv.id)).Build() << "\n";
  } else {
    *ctx.out << "generated " << *type << " key pair '" << *label << "' (id " << HexEncode(priv.id) << ")\n  "
             << FormatPkcs11Uri(ObjectUri(t.token, priv)) << "\n  " << FormatPkcs11Uri(ObjectUri(t.token, pub)) << "\n";
  }
  return OkStatus();
}

Status CmdCsr(Context& ctx) {
  CV_ASSIGN_OR_RETURN(ObjectSelector sel, KeySelector(ctx));
  CV_RETURN_IF_ERROR(RequireSubject(*ctx.args).status());
  CV_RETURN_IF_ERROR(ParseSans(*ctx.args).status());
  // --attest: the attestation is issued by the vault identity (a R/W session).
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, sel.token, ctx.args->Has("attest"), true, UserType::kUser, &sel));
  CV_ASSIGN_OR_RETURN(Bytes der, VaultCsr(ctx, t, sel));
  CV_ASSIGN_OR_RETURN(std::string pem, x509::PemEncode("CERTIFICATE REQUEST", der));
  return WriteOutput(ctx, AsSpan(pem));
}

Status CmdSelfsign(Context& ctx) {
  CV_ASSIGN_OR_RETURN(ObjectSelector sel, KeySelector(ctx));
  x509::CertSpec spec;
  CV_ASSIGN_OR_RETURN(spec.subject, RequireSubject(*ctx.args));
  CV_ASSIGN_OR_RETURN(spec.sans, ParseSans(*ctx.args));
  CV_ASSIGN_OR_RETURN(spec.days, ParseDays(ctx.args->Get("days")));
  spec.is_ca = ctx.args->Has("ca");
  spec.extended_key_usage = ctx.args->GetAll("eku");
  bool store = ctx.args->Has("store");
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, sel.token, store, true, UserType::kUser, &sel));
  CV_ASSIGN_OR_RETURN(SigningKey key, LoadSigningKey(ctx, t, sel));
  spec.public_key_info = key.spki;
  spec.algorithm = key.algorithm;
  CV_ASSIGN_OR_RETURN(Bytes der, x509::BuildCertificate(spec, VaultSigner(&t.session, key.info.handle, key.algorithm)));
  CV_ASSIGN_OR_RETURN(std::string pem, x509::PemEncode("CERTIFICATE", der));
  CV_RETURN_IF_ERROR(WriteOutput(ctx, AsSpan(pem)));
  if (store) {
    CV_ASSIGN_OR_RETURN(ObjectHandle cert, StoreCertificate(t.session, der, key.info.label, key.info.id));
    ObjectInfo info{cert, CKO_CERTIFICATE, std::nullopt, key.info.label, key.info.id};
    *ctx.err << "stored " << FormatPkcs11Uri(ObjectUri(t.token, info)) << "\n";
  }
  return OkStatus();
}

}  // namespace certvault::cli
