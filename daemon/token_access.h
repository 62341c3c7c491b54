// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Token access: which Unix users and groups may use which token of the vault
// (docs/config.md, [daemon] token_access). Connecting at all is governed by
// allowed_uids / allowed_gids; this narrows it per token, so that an
// application cannot open sessions on (and so lock, by wrong guesses, the PIN
// of) another application's token. A token without an entry is open to every
// peer allowed to connect (the default: the vault owner's group uses all).
#ifndef CERTVAULT_DAEMON_TOKEN_ACCESS_H_
#define CERTVAULT_DAEMON_TOKEN_ACCESS_H_

#include <sys/types.h>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/result.h"
#include "src/base/status.h"

namespace certvault::daemon {

// TokenPrincipals: the users and groups allowed to use one token.
struct TokenPrincipals {
  std::set<uid_t> uids;
  std::set<gid_t> gids;
};

// TokenAccess: by token label (as shown in CK_TOKEN_INFO, without padding).
using TokenAccess = std::map<std::string, TokenPrincipals>;

// Peer: who is calling: uid, primary gid and supplementary groups.
struct Peer {
  uid_t uid = 0;
  std::vector<gid_t> gids;
};

// ParseTokenAccess: "LABEL: PRINCIPAL...; LABEL: ..." where a principal is a
// user (name or uid) or a group ("@name" or "@gid"), separated by spaces or
// commas. kInvalidArgument naming the entry on a malformed entry, an unknown
// user or group, an empty label or list, or a label given twice.
Result<TokenAccess> ParseTokenAccess(std::string_view value);

// MayUseToken: OK if `label` has no entry or `peer` is one of its principals;
// kPermissionDenied (reason kTokenNotRecognized: the token is not there for
// this peer) otherwise.
Status MayUseToken(const TokenAccess& access, std::string_view label, const Peer& peer);

}  // namespace certvault::daemon

#endif  // CERTVAULT_DAEMON_TOKEN_ACCESS_H_
