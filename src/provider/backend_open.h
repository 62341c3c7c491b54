// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// OpenProviderBackend: the one place where the provider opens its backend.
// certvault::OpenBackend (src/ipc/open_backend.h) picks certvaultd's client
// when `socket` is set, else the embedded vault.
#ifndef CERTVAULT_PROVIDER_BACKEND_OPEN_H_
#define CERTVAULT_PROVIDER_BACKEND_OPEN_H_

#include <memory>
#include <string>

#include "src/base/result.h"
#include "src/core/backend.h"

namespace certvault::provider {

// OpenProviderBackend: `vault_dir` "" = CERTVAULT_HOME / the default vault;
// `socket` "" = embedded. Opening the daemon client does not connect. The
// embedded backend also checks that this process may use the vault's files
// (kPermissionDenied naming the path), which the core would otherwise report
// as an empty vault.
Result<std::unique_ptr<Backend>> OpenProviderBackend(const std::string& vault_dir, const std::string& socket);

}  // namespace certvault::provider

#endif  // CERTVAULT_PROVIDER_BACKEND_OPEN_H_
