// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Token verbs: init, tokens, info, change-pin, unlock.
#include <charconv>

#include "cli/command_context.h"
#include "cli/output.h"
#include "src/base/status_macros.h"

namespace certvault::cli {
namespace {

constexpr size_t kMaxLabelLength = 32;  // CK_TOKEN_INFO.label

struct FlagName {
  uint64_t flag;
  std::string_view name;
};
constexpr FlagName kTokenFlags[] = {
    {CKF_TOKEN_INITIALIZED, "initialized"},       {CKF_LOGIN_REQUIRED, "login-required"},
    {CKF_USER_PIN_INITIALIZED, "user-pin-set"},   {CKF_USER_PIN_COUNT_LOW, "user-pin-count-low"},
    {CKF_USER_PIN_FINAL_TRY, "user-pin-final-try"}, {CKF_USER_PIN_LOCKED, "user-pin-locked"},
    {CKF_USER_PIN_TO_BE_CHANGED, "user-pin-to-be-changed"}, {CKF_SO_PIN_COUNT_LOW, "so-pin-count-low"},
    {CKF_SO_PIN_FINAL_TRY, "so-pin-final-try"},   {CKF_SO_PIN_LOCKED, "so-pin-locked"},
    {CKF_SO_PIN_TO_BE_CHANGED, "so-pin-to-be-changed"}, {CKF_WRITE_PROTECTED, "write-protected"},
};

std::vector<std::string> FlagNames(uint64_t flags) {
  std::vector<std::string> out;
  for (const FlagName& f : kTokenFlags) {
    if ((flags & f.flag) != 0) out.emplace_back(f.name);
  }
  return out;
}

std::string JoinSpace(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : " ") + s;
  return out;
}

std::string JsonStrings(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& s : items) quoted.push_back(JsonString(s));
  return JsonArray(quoted);
}

Result<uint32_t> ParseCapacity(const std::optional<std::string>& text) {
  if (!text.has_value()) return 0u;
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size()) {
    return InvalidArgumentError("--capacity must be a number of key/certificate pairs (0 = unlimited)");
  }
  return value;
}

Result<std::string> RequireLabel(const Args& args) {
  std::optional<std::string> label = args.Get("label");
  if (!label.has_value() || label->empty()) return InvalidArgumentError("init needs --label NAME");
  if (label->size() > kMaxLabelLength) return InvalidArgumentError("a token label has at most 32 bytes");
  return *label;
}

std::string TokenJson(const TokenRef& t, const std::string& vault_dir, bool details) {
  JsonObject o;
  o.Add("label", t.label).AddInt("slot", t.slot).Add("serial", std::string(TrimRight(t.info.serial)));
  o.Add("uri", FormatPkcs11Uri(TokenUri(t))).AddRaw("flags", JsonStrings(FlagNames(t.info.flags)));
  if (details) {
    o.Add("manufacturer", std::string(TrimRight(t.info.manufacturer))).Add("model", std::string(TrimRight(t.info.model)));
    o.AddInt("min_pin_len", t.info.min_pin_len).AddInt("max_pin_len", t.info.max_pin_len);
    o.AddInt("total_public_memory", t.info.total_public_memory).AddInt("free_public_memory", t.info.free_public_memory);
    o.AddInt("total_private_memory", t.info.total_private_memory).AddInt("free_private_memory", t.info.free_private_memory);
    o.AddInt("session_count", t.info.session_count).Add("vault", vault_dir);
  }
  return o.Build();
}

// Memory: "free/total free", or "n/a" for CK_UNAVAILABLE_INFORMATION.
std::string Memory(uint64_t free_bytes, uint64_t total_bytes) {
  if (free_bytes == ~uint64_t{0} || total_bytes == ~uint64_t{0}) return "n/a";
  return std::to_string(free_bytes) + "/" + std::to_string(total_bytes) + " free";
}

void PrintTokenDetails(std::ostream& os, const TokenRef& t, const std::string& vault_dir) {
  os << "token:        " << t.label << "\n"
     << "uri:          " << FormatPkcs11Uri(TokenUri(t)) << "\n"
     << "slot:         " << t.slot << "\n"
     << "manufacturer: " << TrimRight(t.info.manufacturer) << "\n"
     << "model:        " << TrimRight(t.info.model) << "\n"
     << "serial:       " << TrimRight(t.info.serial) << "\n"
     << "flags:        " << JoinSpace(FlagNames(t.info.flags)) << "\n"
     << "PIN length:   " << t.info.min_pin_len << ".." << t.info.max_pin_len << "\n"
     << "memory:       public " << Memory(t.info.free_public_memory, t.info.total_public_memory) << ", private "
     << Memory(t.info.free_private_memory, t.info.total_private_memory) << "\n"
     << "sessions:     " << t.info.session_count << "\n"
     << "vault:        " << vault_dir << "\n";
}

}  // namespace

Status CmdInit(Context& ctx) {
  CV_ASSIGN_OR_RETURN(std::string label, RequireLabel(*ctx.args));
  Backend::TokenOptions options;
  CV_ASSIGN_OR_RETURN(options.capacity, ParseCapacity(ctx.args->Get("capacity")));
  options.user_pin_must_change = ctx.args->Has("pin-must-change");
  CV_ASSIGN_OR_RETURN(std::vector<TokenRef> existing, ListTokens(ctx.backend));
  for (const TokenRef& t : existing) {
    if (t.label == label) return AlreadyExistsError("a token labelled '" + label + "' exists already; choose another --label");
  }
  CV_ASSIGN_OR_RETURN(SlotId slot, FindFreeSlot(ctx.backend));
  CV_ASSIGN_OR_RETURN(SecretBytes so_pin, ObtainPin(*ctx.args, PinKind::kSo, /*confirm=*/true));
  CV_ASSIGN_OR_RETURN(SecretBytes user_pin, ObtainPin(*ctx.args, PinKind::kUser, /*confirm=*/true));
  CV_RETURN_IF_ERROR(ctx.backend->InitTokenWithOptions(slot, so_pin, label, options));
  CV_ASSIGN_OR_RETURN(Session session, Session::Open(ctx.backend, slot, /*read_write=*/true));
  CV_RETURN_IF_ERROR(session.Login(UserType::kSo, so_pin));
  CV_RETURN_IF_ERROR(ctx.backend->InitPin(session.handle(), user_pin));
  CV_RETURN_IF_ERROR(ctx.backend->Logout(session.handle()));
  CV_RETURN_IF_ERROR(SetUpVaultKeys(ctx, slot, user_pin));  // issue 14: vendor mode pins the authority
  CV_ASSIGN_OR_RETURN(TokenRef token, FindToken(ctx.backend, label));
  if (ctx.json) {
    *ctx.out << TokenJson(token, ctx.vault_dir, false) << "\n";
  } else {
    *ctx.out << "initialized token '" << label << "' in slot " << slot << "\n" << FormatPkcs11Uri(TokenUri(token)) << "\n";
  }
  return OkStatus();
}

Status CmdTokens(Context& ctx) {
  CV_ASSIGN_OR_RETURN(std::vector<TokenRef> tokens, ListTokens(ctx.backend));
  if (ctx.json) {
    std::vector<std::string> items;
    for (const TokenRef& t : tokens) items.push_back(TokenJson(t, ctx.vault_dir, false));
    *ctx.out << JsonArray(items) << "\n";
    return OkStatus();
  }
  if (tokens.empty()) *ctx.err << "no tokens in " << ctx.vault_dir << "; create one with `certvault init --label NAME`\n";
  for (const TokenRef& t : tokens) {
    *ctx.out << "slot " << t.slot << "  " << t.label << "  serial " << TrimRight(t.info.serial) << "  ["
             << JoinSpace(FlagNames(t.info.flags)) << "]\n  " << FormatPkcs11Uri(TokenUri(t)) << "\n";
  }
  return OkStatus();
}

Status CmdInfo(Context& ctx) {
  CV_ASSIGN_OR_RETURN(TokenRef token, FindToken(ctx.backend, ctx.args->Get("token")));
  if (ctx.json) {
    *ctx.out << TokenJson(token, ctx.vault_dir, true) << "\n";
  } else {
    PrintTokenDetails(*ctx.out, token, ctx.vault_dir);
  }
  return OkStatus();
}

Status CmdChangePin(Context& ctx) {
  bool so = ctx.args->Has("so");
  UserType user = so ? UserType::kSo : UserType::kUser;
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, ctx.args->Get("token"), true, false));
  CV_ASSIGN_OR_RETURN(SecretBytes old_pin, ObtainPin(*ctx.args, so ? PinKind::kSo : PinKind::kUser));
  CV_ASSIGN_OR_RETURN(SecretBytes new_pin, ObtainPin(*ctx.args, so ? PinKind::kNewSo : PinKind::kNewUser));
  CV_RETURN_IF_ERROR(t.session.Login(user, old_pin));
  CV_RETURN_IF_ERROR(ctx.backend->SetPin(t.session.handle(), old_pin, new_pin));
  *ctx.err << (so ? "SO" : "user") << " PIN of token '" << t.token.label << "' changed\n";
  return OkStatus();
}

Status CmdUnlock(Context& ctx) {
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, ctx.args->Get("token"), true, true, UserType::kSo));
  CV_ASSIGN_OR_RETURN(SecretBytes new_pin, ObtainPin(*ctx.args, PinKind::kNewUser));
  CV_RETURN_IF_ERROR(ctx.backend->InitPin(t.session.handle(), new_pin));
  *ctx.err << "user PIN of token '" << t.token.label << "' reset; the retry counter is cleared\n";
  return OkStatus();
}

}  // namespace certvault::cli
