// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/provider/backend_open.h"

#include <unistd.h>

#include <cerrno>

#include "src/base/status_macros.h"
#include "src/ipc/open_backend.h"

namespace certvault::provider {
namespace {

// CheckAccess: the process can use the vault directory and database (the
// core treats an unreadable database like a missing one, which would surface
// as an unrelated "token not initialized" later).
Status CheckAccess(const std::string& dir) {
  std::string db = dir + "/vault.db";
  const char* what = nullptr;
  if (access(dir.c_str(), R_OK | W_OK | X_OK) != 0 && errno == EACCES) what = dir.c_str();
  if (what == nullptr && access(db.c_str(), F_OK) != 0 && errno == EACCES) what = dir.c_str();
  if (what == nullptr && access(db.c_str(), F_OK) == 0 && access(db.c_str(), R_OK | W_OK) != 0) what = db.c_str();
  if (what == nullptr) return OkStatus();
  return PermissionDeniedError(std::string("permission denied on ") + what);
}

}  // namespace

Result<std::unique_ptr<Backend>> OpenProviderBackend(const std::string& vault_dir, const std::string& socket) {
  BackendOptions options;
  options.vault_dir = vault_dir;
  options.daemon_socket = socket;
  CV_ASSIGN_OR_RETURN(std::unique_ptr<Backend> backend, OpenBackend(options));
  if (socket.empty()) CV_RETURN_IF_ERROR(CheckAccess(vault_dir));  // the embedded vault: this process's files
  return backend;
}

}  // namespace certvault::provider
