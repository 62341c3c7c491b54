// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/base/vault_perms.h"

#include <sys/stat.h>

namespace certvault {
namespace {

constexpr char kDbName[] = "/vault.db";  // as src/core/backend_vault.cc

void WarnOwner(const std::string& path, const struct stat& st, std::optional<uid_t> owner,
               std::vector<std::string>* warnings) {
  if (owner.has_value() && st.st_uid != *owner) {
    warnings->push_back(path + " is owned by uid " + std::to_string(st.st_uid) + ", not by uid " +
                        std::to_string(*owner) + ": that user's processes can edit the vault and its PIN counters");
  }
}

}  // namespace

Status CheckVaultPermissions(const std::string& dir, std::optional<uid_t> owner, std::vector<std::string>* warnings) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return OkStatus();
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return FailedPreconditionError("the vault directory " + dir +
                                   " is writable by its group or others, who could replace the vault or reset its "
                                   "PIN counters: chmod 700 it (docs/threat-model.md)");
  }
  WarnOwner(dir, st, owner, warnings);
  const std::string db = dir + kDbName;
  if (::stat(db.c_str(), &st) != 0) return OkStatus();
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    warnings->push_back(db + " is writable by its group or others: they can edit its PIN retry counters (chmod 600)");
  }
  WarnOwner(db, st, owner, warnings);
  return OkStatus();
}

}  // namespace certvault
