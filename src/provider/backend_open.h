// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// OpenProviderBackend: the one place where the provider opens its backend.
// Today the embedded backend; the daemon client when that selector lands.
#ifndef CERTVAULT_PROVIDER_BACKEND_OPEN_H_
#define CERTVAULT_PROVIDER_BACKEND_OPEN_H_

#include <memory>
#include <string>

#include "src/base/result.h"
#include "src/core/backend.h"

namespace certvault::provider {

// OpenProviderBackend: `vault_dir` "" = CERTVAULT_HOME / the default vault.
// The embedded backend also checks that this process may use the vault's
// files (kPermissionDenied naming the path), which the core would otherwise
// report as an empty vault.
Result<std::unique_ptr<Backend>> OpenProviderBackend(const std::string& vault_dir);

}  // namespace certvault::provider

#endif  // CERTVAULT_PROVIDER_BACKEND_OPEN_H_
