// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// OpenBackendFromEnvironment for the shared module: the certvaultd client
// when CERTVAULT_SOCKET (or the config file's [daemon] socket) is set, else
// the embedded backend (src/ipc/open_backend.h).
#include "src/ipc/open_backend.h"
#include "src/pkcs11/module.h"
#include "src/selftest/selftest.h"

namespace certvault::pkcs11 {

// Every C_Initialize reruns the power-on self-tests (docs/design/selftest.md).
// A failure does not fail C_Initialize: the error state makes every call but
// the informational ones return CKR_DEVICE_ERROR (guard.h), so that a client
// can still list the slot and see why nothing works.
Result<std::unique_ptr<Backend>> OpenBackendFromEnvironment() {
  (void)selftest::RunPowerOnSelfTests();
  return OpenBackend(BackendOptions{});
}

}  // namespace certvault::pkcs11
