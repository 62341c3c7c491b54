// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/provider/backend_open.h"

namespace certvault::provider {

Result<std::unique_ptr<Backend>> OpenProviderBackend(const std::string& vault_dir) {
  BackendOptions options;
  options.vault_dir = vault_dir;
  return OpenEmbeddedBackend(options);
}

}  // namespace certvault::provider
