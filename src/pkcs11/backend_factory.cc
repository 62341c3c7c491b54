// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// OpenBackendFromEnvironment for the shared module: the certvaultd client
// when CERTVAULT_SOCKET (or the config file's [daemon] socket) is set, else
// the embedded backend (src/ipc/open_backend.h).
#include "src/ipc/open_backend.h"
#include "src/pkcs11/module.h"

namespace certvault::pkcs11 {

Result<std::unique_ptr<Backend>> OpenBackendFromEnvironment() { return OpenBackend(BackendOptions{}); }

}  // namespace certvault::pkcs11
