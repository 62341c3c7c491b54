// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// OpenBackendFromEnvironment for the shared module: the embedded backend.
// (A later change selects the daemon client when CERTVAULT_SOCKET is set.)
#include "src/core/backend.h"
#include "src/pkcs11/module.h"

namespace certvault::pkcs11 {

Result<std::unique_ptr<Backend>> OpenBackendFromEnvironment() { return OpenEmbeddedBackend(BackendOptions{}); }

}  // namespace certvault::pkcs11
