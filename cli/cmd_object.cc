// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Object verbs: list, delete, export-cert, export-pubkey.
#include "cli/command_context.h"
#include "cli/keys.h"
#include "cli/output.h"
#include "src/base/status_macros.h"
#include "src/crypto/x509_build.h"

namespace certvault::cli {
namespace {

std::string KeyTypeName(const std::optional<KeyType>& kt) {
  if (!kt.has_value()) return "";
  switch (*kt) {
    case CKK_RSA: return "rsa";
    case CKK_EC: return "ec";
    case CKK_EC_EDWARDS: return "eddsa";
    case CKK_AES: return "aes";
    case CKK_GENERIC_SECRET: return "generic-secret";
    default: return "other";
  }
}

std::string ObjectJson(const TokenRef& token, const ObjectInfo& info) {
  JsonObject o;
  o.Add("token", token.label).Add("class", ObjectClassName(info.object_class));
  if (info.key_type.has_value()) o.Add("key_type", KeyTypeName(info.key_type));
  o.Add("label", info.label).Add("id", HexEncode(info.id)).Add("uri", FormatPkcs11Uri(ObjectUri(token, info)));
  AddLifecycleJson(&o, info);
  return o.Build();
}

void PrintObject(std::ostream& os, const TokenRef& token, const ObjectInfo& info) {
  std::string cls(ObjectClassName(info.object_class));
  os << "  " << (cls.empty() ? "object" : cls);
  if (info.key_type.has_value()) os << " (" << KeyTypeName(info.key_type) << ")";
  os << "  label=" << info.label << "  id=" << HexEncode(info.id) << LifecycleText(info) << "\n    "
     << FormatPkcs11Uri(ObjectUri(token, info)) << "\n";
}

Status ListToken(Context& ctx, const TokenRef& token, bool login, std::vector<std::string>* json_items) {
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, token.label, false, login));
  CV_ASSIGN_OR_RETURN(std::vector<ObjectHandle> handles, t.session.Find(AttributeSet()));
  if (!ctx.json) *ctx.out << "token " << token.label << (login ? "" : " (public objects; add --login or a PIN for all)") << "\n";
  size_t refused = 0;
  for (ObjectHandle h : handles) {
    Result<ObjectInfo> info = DescribeObject(t.session, h);
    if (!info.ok() && info.status().reason() == Reason::kCorruptStore) {
      // An object that fails its integrity check (docs/formats/integrity.md)
      // is named, and the others are still listed.
      *ctx.err << "certvault: " << info.status().message() << "\n";
      ++refused;
      continue;
    }
    CV_RETURN_IF_ERROR(info.status());
    if (ctx.json) {
      json_items->push_back(ObjectJson(token, *info));
    } else {
      PrintObject(*ctx.out, token, *info);
    }
  }
  if (refused == 0) return OkStatus();
  return Status(Reason::kCorruptStore, std::to_string(refused) + " object(s) of token '" + token.label +
                                           "' failed their integrity check (listed above)");
}

Result<std::optional<ObjectClass>> DeleteClass(const std::optional<std::string>& type) {
  if (!type.has_value() || *type == "all") return std::optional<ObjectClass>();
  if (*type == "cert") return std::optional<ObjectClass>(CKO_CERTIFICATE);
  if (*type == "privkey") return std::optional<ObjectClass>(CKO_PRIVATE_KEY);
  if (*type == "pubkey") return std::optional<ObjectClass>(CKO_PUBLIC_KEY);
  return InvalidArgumentError("--type must be cert, privkey, pubkey or all");
}

}  // namespace

Status CmdList(Context& ctx) {
  std::vector<TokenRef> tokens;
  if (std::optional<std::string> label = ctx.args->Get("token")) {
    CV_ASSIGN_OR_RETURN(TokenRef token, FindToken(ctx.backend, label));
    tokens.push_back(std::move(token));
  } else {
    CV_ASSIGN_OR_RETURN(tokens, ListTokens(ctx.backend));
  }
  bool login = ctx.args->Has("login") || HasPinSource(*ctx.args, PinKind::kUser);
  std::vector<std::string> items;
  for (const TokenRef& token : tokens) CV_RETURN_IF_ERROR(ListToken(ctx, token, login, &items));
  if (ctx.json) *ctx.out << JsonArray(items) << "\n";
  if (!ctx.json && tokens.empty()) *ctx.err << "no tokens; create one with `certvault init --label NAME`\n";
  return OkStatus();
}

namespace {

// DeleteProtected: quorum-protected keys, under the approved destroy-key
// operation `op` (docs/design/quorum.md); in daemon mode certvaultd checks
// the approval and destroys them.
Status DeleteProtected(Context& ctx, OpenedToken& t, const std::vector<ObjectHandle>& handles, const std::string& op) {
  std::vector<ObjectInfo> infos;
  for (ObjectHandle h : handles) {
    CV_ASSIGN_OR_RETURN(ObjectInfo info, DescribeObject(t.session, h));
    infos.push_back(std::move(info));
  }
  CV_RETURN_IF_ERROR(ctx.backend->DestroyProtectedObjects(t.session.handle(), handles, op));
  for (const ObjectInfo& info : infos) *ctx.out << "deleted " << FormatPkcs11Uri(ObjectUri(t.token, info)) << "\n";
  return OkStatus();
}

}  // namespace

Status CmdDelete(Context& ctx) {
  CV_ASSIGN_OR_RETURN(ObjectSelector sel, MakeSelector(ctx.args->Get("object"), ctx.args->Get("id"), ctx.args->Get("token")));
  CV_ASSIGN_OR_RETURN(std::optional<ObjectClass> cls, DeleteClass(ctx.args->Get("type")));
  if (cls.has_value()) sel.object_class = cls;
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, sel.token, true, true, UserType::kUser, &sel));
  CV_ASSIGN_OR_RETURN(std::vector<ObjectHandle> handles, t.session.Find(sel.Template()));
  if (handles.empty()) {
    return Status(StatusCode::kNotFound, Reason::kObjectHandleInvalid,
                  "no matching object on token '" + t.token.label + "'; run `certvault list --login`");
  }
  if (std::optional<std::string> op = ctx.args->Get("op")) return DeleteProtected(ctx, t, handles, *op);
  for (ObjectHandle h : handles) {
    CV_ASSIGN_OR_RETURN(ObjectInfo info, DescribeObject(t.session, h));
    CV_RETURN_IF_ERROR(ctx.backend->DestroyObject(t.session.handle(), h));
    *ctx.out << "deleted " << FormatPkcs11Uri(ObjectUri(t.token, info)) << "\n";
  }
  return OkStatus();
}

Status CmdExportCert(Context& ctx) {
  CV_ASSIGN_OR_RETURN(ObjectSelector sel, MakeSelector(ctx.args->Get("cert"), ctx.args->Get("id"), ctx.args->Get("token")));
  sel.object_class = CKO_CERTIFICATE;
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, sel.token, false, false));
  CV_ASSIGN_OR_RETURN(ObjectInfo info, FindOne(t.session, sel, "certificate"));
  CV_ASSIGN_OR_RETURN(std::optional<Bytes> der, t.session.Attribute(info.handle, CKA_VALUE));
  if (!der.has_value() || der->empty()) return DataLossError("the certificate object has no value");
  if (ctx.args->Has("der")) return WriteOutput(ctx, *der);
  CV_ASSIGN_OR_RETURN(std::string pem, x509::PemEncode("CERTIFICATE", *der));
  return WriteOutput(ctx, AsSpan(pem));
}

Status CmdExportPubkey(Context& ctx) {
  CV_ASSIGN_OR_RETURN(ObjectSelector sel, MakeSelector(ctx.args->Get("key"), ctx.args->Get("id"), ctx.args->Get("token")));
  if (!sel.object_class.has_value()) sel.object_class = CKO_PUBLIC_KEY;
  bool login = sel.object_class == CKO_PRIVATE_KEY;
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, sel.token, false, login, UserType::kUser, &sel));
  CV_ASSIGN_OR_RETURN(ObjectInfo info, FindOne(t.session, sel, "public key"));
  CV_ASSIGN_OR_RETURN(Bytes spki, PublicKeyInfo(t.session, info));
  CV_ASSIGN_OR_RETURN(std::string pem, x509::PemEncode("PUBLIC KEY", spki));
  return WriteOutput(ctx, AsSpan(pem));
}

}  // namespace certvault::cli
