// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// OpenBackend: the one backend selection of every boundary (the PKCS#11
// module, the OpenSSL provider, the CLI).
//   0. options.daemon_socket set: the certvaultd client on that socket;
//   1. $CERTVAULT_SOCKET set and not empty: the certvaultd client on that socket;
//   2. else the config file ($CERTVAULT_CONF or options.config_path) has
//      `[daemon] socket = PATH`: the certvaultd client on PATH;
//   3. else the embedded backend (OpenEmbeddedBackend(options)).
// In daemon mode `options.vault_dir` and `create_vault` are the daemon's
// business and ignored here. Opening the client does not connect (see
// src/ipc/client.h): a daemon that is down shows in the first call
// (kDeviceRemoved), not here. Errors: a malformed config file
// (kInvalidArgument), or the embedded backend's.
#ifndef CERTVAULT_IPC_OPEN_BACKEND_H_
#define CERTVAULT_IPC_OPEN_BACKEND_H_

#include <memory>

#include "src/core/backend.h"

namespace certvault {

Result<std::unique_ptr<Backend>> OpenBackend(const BackendOptions& options);

// DaemonSocketFor: the socket OpenBackend would use, or "" for embedded.
Result<std::string> DaemonSocketFor(const BackendOptions& options);

}  // namespace certvault

#endif  // CERTVAULT_IPC_OPEN_BACKEND_H_
