// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CheckVaultPermissions: who besides the owner may write the vault
// (docs/threat-model.md, "PIN guessing"). A process that can write vault.db
// can edit the PIN retry counter; certvault detects such edits but cannot
// stop a copy being guessed offline, so `certvault init` and certvaultd
// refuse a group/world-writable vault directory and warn about the rest.
// Used by programs only (a loaded module never prints).
#ifndef CERTVAULT_BASE_VAULT_PERMS_H_
#define CERTVAULT_BASE_VAULT_PERMS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "src/base/status.h"

namespace certvault {

// CheckVaultPermissions: kFailedPrecondition if the existing directory `dir`
// is writable by its group or others. Appends a warning to `*warnings` for a
// vault.db writable by group or others, and, if `owner` is set, for a
// directory or database owned by another user. A missing directory or
// database is fine (OK, no warning).
Status CheckVaultPermissions(const std::string& dir, std::optional<uid_t> owner, std::vector<std::string>* warnings);

}  // namespace certvault

#endif  // CERTVAULT_BASE_VAULT_PERMS_H_
