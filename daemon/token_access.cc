// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "daemon/token_access.h"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "src/base/status_macros.h"

namespace certvault::daemon {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool Number(std::string_view s, uint32_t* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

// AddPrincipal: one "user", "uid", "@group" or "@gid".
Status AddPrincipal(std::string_view p, TokenPrincipals* out) {
  const bool group = p.front() == '@';
  std::string name(group ? p.substr(1) : p);
  uint32_t id = 0;
  if (Number(name, &id)) {
    group ? out->gids.insert(id) : out->uids.insert(id);
    return OkStatus();
  }
  std::vector<char> buf(16384);
  if (group) {
    struct group gr;
    struct group* found = nullptr;
    if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
      return InvalidArgumentError("[daemon] token_access: unknown group '" + name + "'");
    }
    out->gids.insert(gr.gr_gid);
  } else {
    struct passwd pw;
    struct passwd* found = nullptr;
    if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
      return InvalidArgumentError("[daemon] token_access: unknown user '" + name + "'");
    }
    out->uids.insert(pw.pw_uid);
  }
  return OkStatus();
}

Status ParseEntry(std::string_view entry, TokenAccess* out) {
  size_t colon = entry.find(':');
  if (colon == std::string_view::npos) {
    return InvalidArgumentError("[daemon] token_access: '" + std::string(entry) + "' is not LABEL: PRINCIPALS");
  }
  std::string label(Trim(entry.substr(0, colon)));
  if (label.empty() || label.size() > 32) return InvalidArgumentError("[daemon] token_access: bad token label");
  if (out->count(label) != 0) return InvalidArgumentError("[daemon] token_access: token '" + label + "' given twice");
  TokenPrincipals principals;
  std::string list(entry.substr(colon + 1));
  std::replace(list.begin(), list.end(), ',', ' ');
  std::string_view rest(list);
  while (!(rest = Trim(rest)).empty()) {
    size_t end = std::min(rest.find(' '), rest.size());
    CV_RETURN_IF_ERROR(AddPrincipal(rest.substr(0, end), &principals));
    rest.remove_prefix(end);
  }
  if (principals.uids.empty() && principals.gids.empty()) {
    return InvalidArgumentError("[daemon] token_access: token '" + label + "' names nobody");
  }
  (*out)[label] = std::move(principals);
  return OkStatus();
}

}  // namespace

Result<TokenAccess> ParseTokenAccess(std::string_view value) {
  TokenAccess out;
  while (!value.empty()) {
    size_t semi = std::min(value.find(';'), value.size());
    std::string_view entry = Trim(value.substr(0, semi));
    value.remove_prefix(std::min(semi + 1, value.size()));
    if (!entry.empty()) CV_RETURN_IF_ERROR(ParseEntry(entry, &out));
  }
  return out;
}

Status MayUseToken(const TokenAccess& access, std::string_view label, const Peer& peer) {
  auto it = access.find(std::string(Trim(label)));
  if (it == access.end()) return OkStatus();
  const TokenPrincipals& p = it->second;
  if (p.uids.count(peer.uid) != 0) return OkStatus();
  for (gid_t g : peer.gids) {
    if (p.gids.count(g) != 0) return OkStatus();
  }
  return Status(StatusCode::kPermissionDenied, Reason::kTokenNotRecognized,
                "certvaultd: token '" + it->first + "' is not available to this user (token_access)");
}

}  // namespace certvault::daemon
