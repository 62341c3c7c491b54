// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/ipc/open_backend.h"

#include <cstdlib>

#include "src/base/status_macros.h"
#include "src/core/config.h"
#include "src/ipc/client.h"
#include "src/quorum/quorum.h"

namespace certvault {

Result<std::string> DaemonSocketFor(const BackendOptions& options) {
  if (!options.daemon_socket.empty()) return options.daemon_socket;
  if (const char* env = std::getenv("CERTVAULT_SOCKET"); env != nullptr && *env != '\0') return std::string(env);
  const char* conf = std::getenv("CERTVAULT_CONF");
  if (options.config_path.empty() && (conf == nullptr || *conf == '\0')) return std::string();
  CV_ASSIGN_OR_RETURN(core::Config config, core::LoadConfig(options.vault_dir, options.config_path));
  return config.daemon_socket;
}

Result<std::unique_ptr<Backend>> OpenBackend(const BackendOptions& options) {
  CV_ASSIGN_OR_RETURN(std::string socket, DaemonSocketFor(options));
  if (socket.empty()) {
    quorum::InstallQuorumAuthorizer();  // quorum-protected keys (issue 16)
    return OpenEmbeddedBackend(options);
  }
  ipc::ClientOptions client;
  client.socket_path = socket;
  return ipc::OpenDaemonBackend(client);
}

}  // namespace certvault
