// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/provider/backend_open.h"

#include "src/ipc/open_backend.h"

namespace certvault::provider {

Result<std::unique_ptr<Backend>> OpenProviderBackend(const std::string& vault_dir, const std::string& socket) {
  BackendOptions options;
  options.vault_dir = vault_dir;
  options.daemon_socket = socket;
  return OpenBackend(options);
}

}  // namespace certvault::provider
