// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "cli/vault.h"

#include <cstring>

#include "cli/output.h"
#include "src/base/status_macros.h"
#include "src/model/vendor_attributes.h"

namespace certvault::cli {
namespace {

Status NoTokenError(const std::string& label) {
  return Status(StatusCode::kNotFound, Reason::kTokenNotPresent,
                "no token labelled '" + label + "'; run `certvault tokens` to see the tokens");
}

std::string Trimmed(const std::string& s) { return std::string(TrimRight(s)); }

std::optional<uint64_t> DecodeUlong(const Bytes& v) {
  if (v.size() != sizeof(uint64_t)) return std::nullopt;
  uint64_t out = 0;
  std::memcpy(&out, v.data(), sizeof(out));
  return out;
}

}  // namespace

Result<std::vector<TokenRef>> ListTokens(Backend* backend) {
  CV_ASSIGN_OR_RETURN(std::vector<SlotId> slots, backend->GetSlotList(/*token_present=*/true));
  std::vector<TokenRef> out;
  for (SlotId slot : slots) {
    CV_ASSIGN_OR_RETURN(TokenInfo info, backend->GetTokenInfo(slot));
    if ((info.flags & CKF_TOKEN_INITIALIZED) == 0) continue;
    TokenRef ref{slot, info, Trimmed(info.label)};
    out.push_back(std::move(ref));
  }
  return out;
}

Result<TokenRef> FindToken(Backend* backend, const std::optional<std::string>& label) {
  CV_ASSIGN_OR_RETURN(std::vector<TokenRef> tokens, ListTokens(backend));
  if (label.has_value()) {
    for (TokenRef& t : tokens) {
      if (t.label == *label) return std::move(t);
    }
    return NoTokenError(*label);
  }
  if (tokens.size() == 1) return std::move(tokens[0]);
  if (tokens.empty()) {
    Status vault = backend->VaultStatus();
    if (!vault.ok() && vault.code() != StatusCode::kNotFound) return vault.Annotate("the vault cannot be used");
    return Status(StatusCode::kNotFound, Reason::kTokenNotPresent,
                  "the vault has no token yet; create one with `certvault init --label NAME`");
  }
  return InvalidArgumentError("the vault has several tokens; choose one with --token LABEL (see `certvault tokens`)");
}

Result<SlotId> FindFreeSlot(Backend* backend) {
  CV_ASSIGN_OR_RETURN(std::vector<SlotId> slots, backend->GetSlotList(/*token_present=*/false));
  for (SlotId slot : slots) {
    Result<TokenInfo> info = backend->GetTokenInfo(slot);
    if (info.ok() && (info->flags & CKF_TOKEN_INITIALIZED) == 0) return slot;
  }
  return Status(StatusCode::kResourceExhausted, Reason::kCapacityExceeded, "the vault has no free slot for a new token");
}

Pkcs11Uri TokenUri(const TokenRef& token) {
  Pkcs11Uri uri;
  uri.token = token.label;
  uri.manufacturer = Trimmed(token.info.manufacturer);
  uri.serial = Trimmed(token.info.serial);
  uri.model = Trimmed(token.info.model);
  return uri;
}

Result<Session> Session::Open(Backend* backend, SlotId slot, bool read_write) {
  uint64_t flags = CKF_SERIAL_SESSION | (read_write ? CKF_RW_SESSION : 0);
  CV_ASSIGN_OR_RETURN(SessionHandle handle, backend->OpenSession(slot, flags));
  return Session(backend, handle);
}

Session::~Session() {
  if (handle_ != 0) (void)backend_->CloseSession(handle_);
}

Session::Session(Session&& other) noexcept
    : backend_(other.backend_), handle_(other.handle_), user_pin_(std::move(other.user_pin_)) {
  other.handle_ = 0;
}

Status Session::Login(UserType user, const SecretBytes& pin) {
  Status status = backend_->Login(handle_, user, pin);
  if (status.ok() && user == UserType::kUser) user_pin_ = pin.Clone();
  if (status.reason() == Reason::kPinIncorrect) {
    return Status(StatusCode::kUnauthenticated, Reason::kPinIncorrect, "wrong PIN (the token counts failed attempts; see `certvault info`)");
  }
  if (status.reason() == Reason::kPinLocked) {
    return Status(StatusCode::kUnauthenticated, Reason::kPinLocked,
                  user == UserType::kSo ? "the SO PIN is locked" : "the user PIN is locked; reset it with `certvault unlock` (needs the SO PIN)");
  }
  return status;
}

Result<std::vector<ObjectHandle>> Session::Find(const AttributeSet& tmpl) {
  CV_RETURN_IF_ERROR(backend_->FindObjectsInit(handle_, tmpl));
  std::vector<ObjectHandle> out;
  for (;;) {
    Result<std::vector<ObjectHandle>> batch = backend_->FindObjects(handle_, 64);
    if (!batch.ok()) {
      (void)backend_->FindObjectsFinal(handle_);
      return std::move(batch).status();
    }
    if (batch->empty()) break;
    out.insert(out.end(), batch->begin(), batch->end());
  }
  CV_RETURN_IF_ERROR(backend_->FindObjectsFinal(handle_));
  return out;
}

Result<std::optional<Bytes>> Session::Attribute(ObjectHandle object, AttributeType type) {
  std::vector<AttributeRequest> req(1);
  req[0].type = type;
  Status status = backend_->GetAttributeValue(handle_, object, &req);
  if (req[0].status == Reason::kAttributeSensitive || req[0].status == Reason::kAttributeTypeInvalid) {
    return std::optional<Bytes>();
  }
  CV_RETURN_IF_ERROR(status);
  return std::optional<Bytes>(Bytes(req[0].value.begin(), req[0].value.end()));
}

Result<Bytes> Session::Sign(const Mechanism& mech, ObjectHandle key, std::span<const uint8_t> data) {
  CV_RETURN_IF_ERROR(backend_->SignInit(handle_, mech, key));
  CV_ASSIGN_OR_RETURN(std::optional<Bytes> always, Attribute(key, CKA_ALWAYS_AUTHENTICATE));
  if (always.has_value() && always->size() == 1 && (*always)[0] != 0) {
    CV_RETURN_IF_ERROR(Login(UserType::kContextSpecific, user_pin_));
  }
  size_t len = 0;
  CV_RETURN_IF_ERROR(backend_->Sign(handle_, data, OutBuf{nullptr, &len}));
  Bytes sig(len);
  CV_RETURN_IF_ERROR(backend_->Sign(handle_, data, OutBuf{sig.data(), &len}));
  sig.resize(len);
  return sig;
}

AttributeSet ObjectSelector::Template() const {
  AttributeSet tmpl;
  if (label.has_value()) tmpl.SetString(CKA_LABEL, *label);
  if (id.has_value()) tmpl.Set(CKA_ID, *id);
  if (object_class.has_value()) tmpl.SetUlong(CKA_CLASS, *object_class);
  return tmpl;
}

Result<ObjectSelector> MakeSelector(const std::optional<std::string>& name, const std::optional<std::string>& id_hex,
                                    const std::optional<std::string>& token) {
  ObjectSelector sel;
  sel.token = token;
  if (name.has_value() && name->starts_with("pkcs11:")) {
    CV_ASSIGN_OR_RETURN(Pkcs11Uri uri, ParsePkcs11Uri(*name));
    if (uri.token.has_value() && token.has_value() && *uri.token != *token) {
      return InvalidArgumentError("the URI names token '" + *uri.token + "' but --token says '" + *token + "'");
    }
    if (uri.token.has_value()) sel.token = uri.token;
    sel.label = uri.object;
    sel.id = uri.id;
    sel.object_class = uri.type;
    sel.pin = std::move(uri.pin_value);
    sel.pin_source = uri.pin_source;
  } else if (name.has_value()) {
    sel.label = *name;
  }
  if (id_hex.has_value()) {
    Bytes id;
    if (!HexDecode(*id_hex, &id) || id.empty()) return InvalidArgumentError("--id must be hex, e.g. --id 01a2");
    sel.id = std::move(id);
  }
  if (!sel.label.has_value() && !sel.id.has_value()) {
    return InvalidArgumentError("name the object by label, --id HEX or a pkcs11: URI");
  }
  return sel;
}

Result<ObjectInfo> DescribeObject(Session& session, ObjectHandle object) {
  ObjectInfo info;
  info.handle = object;
  CV_ASSIGN_OR_RETURN(std::optional<Bytes> cls, session.Attribute(object, CKA_CLASS));
  CV_ASSIGN_OR_RETURN(std::optional<Bytes> label, session.Attribute(object, CKA_LABEL));
  CV_ASSIGN_OR_RETURN(std::optional<Bytes> id, session.Attribute(object, CKA_ID));
  if (!cls.has_value() || !DecodeUlong(*cls).has_value()) return InternalError("object without a class");
  info.object_class = *DecodeUlong(*cls);
  if (label.has_value()) info.label.assign(label->begin(), label->end());
  if (id.has_value()) info.id = *id;
  if (info.object_class == CKO_PRIVATE_KEY || info.object_class == CKO_PUBLIC_KEY ||
      info.object_class == CKO_SECRET_KEY) {
    CV_ASSIGN_OR_RETURN(std::optional<Bytes> kt, session.Attribute(object, CKA_KEY_TYPE));
    if (kt.has_value()) info.key_type = DecodeUlong(*kt);
    info.lifecycle.SetUlong(CKA_CLASS, info.object_class);
    for (AttributeType type : {kCkaCvKeyState, kCkaCvKeyStateTime, kCkaCvKeyStateReason, CKA_START_DATE, CKA_END_DATE}) {
      CV_ASSIGN_OR_RETURN(std::optional<Bytes> v, session.Attribute(object, type));
      if (v.has_value()) info.lifecycle.Set(type, *v);
    }
  }
  return info;
}

Pkcs11Uri ObjectUri(const TokenRef& token, const ObjectInfo& info) {
  Pkcs11Uri uri = TokenUri(token);
  if (!info.label.empty()) uri.object = info.label;
  if (!ObjectClassName(info.object_class).empty()) uri.type = info.object_class;
  if (!info.id.empty()) uri.id = info.id;
  return uri;
}

Result<ObjectInfo> FindOne(Session& session, const ObjectSelector& selector, std::string_view what) {
  CV_ASSIGN_OR_RETURN(std::vector<ObjectHandle> found, session.Find(selector.Template()));
  std::string name = selector.label.value_or(selector.id.has_value() ? "id " + HexEncode(*selector.id) : "?");
  if (found.empty()) {
    return Status(StatusCode::kNotFound, Reason::kObjectHandleInvalid,
                  "no " + std::string(what) + " '" + name + "' on the token; run `certvault list` to see its objects");
  }
  if (found.size() > 1) {
    return InvalidArgumentError(std::to_string(found.size()) + " objects match '" + name +
                                "'; add --id HEX or use the pkcs11: URI that `certvault list` prints");
  }
  return DescribeObject(session, found[0]);
}

}  // namespace certvault::cli
