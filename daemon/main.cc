// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvaultd: serves one vault over a Unix socket (docs/design/daemon.md).
//   certvaultd [--config FILE] [--vault DIR] [--socket PATH] [--user NAME]
// Runs in the foreground (systemd Type=simple; logs go to stderr). Settings
// come from the [daemon] section of the config file; flags override them.
// Exit: 0 after SIGTERM/SIGINT, 1 on a start-up error, 2 on bad flags.
#include <openssl/crypto.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <string>
#include <vector>

#include "daemon/hardening.h"
#include "daemon/server.h"
#include "src/base/status_macros.h"
#include "src/base/vault_perms.h"
#include "src/core/config.h"
#include "src/quorum/quorum.h"
#include "src/selftest/periodic.h"
#include "src/selftest/selftest.h"

namespace certvault::daemon {
namespace {

Server* g_server = nullptr;
void OnSignal(int) {
  if (g_server != nullptr) g_server->Stop();
}

struct Flags {
  std::string config, vault, socket, user;
};

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    std::string* dst = a == "--config"   ? &f->config
                       : a == "--vault"  ? &f->vault
                       : a == "--socket" ? &f->socket
                       : a == "--user"   ? &f->user
                                         : nullptr;
    if (dst == nullptr || i + 1 >= argc) return false;
    *dst = argv[++i];
  }
  return true;
}

std::string SocketDir(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

// EnsureSocketDir: creates the socket's directory (0755) if missing; true if
// it did (the service user then gets it, to remove the socket at exit).
bool EnsureSocketDir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return false;
  return mkdir(path.substr(0, slash).c_str(), 0755) == 0;
}

void LogToStderr(std::string_view line) { std::cerr << "certvaultd: " << line << "\n"; }

Status Start(const Flags& flags) {
  // Power-on self-tests before anything else: a failure refuses service
  // (exit 1), and a restart reruns them (docs/design/selftest.md).
  selftest::SetLogSink(LogToStderr);
  CV_RETURN_IF_ERROR(selftest::RunPowerOnSelfTests());
  CV_ASSIGN_OR_RETURN(core::Config core_config, core::LoadConfig(flags.vault, flags.config));
  // The backend opens lazily (per client): refuse a configuration that
  // contradicts policy.toml now, not at the first client (docs/design/policy.md).
  CV_RETURN_IF_ERROR(core::CheckAgainstPolicy(core_config));
  CV_ASSIGN_OR_RETURN(DaemonConfig config, ParseDaemonSettings(core_config.daemon_settings));
  if (!flags.socket.empty()) config.socket_path = flags.socket;
  if (config.socket_path.empty()) config.socket_path = DefaultSocketPath();
  if (!flags.user.empty()) config.user = flags.user;
  CV_RETURN_IF_ERROR(HardenProcess(config));
  // The daemon owns the vault: it may create the directory (`certvault init` over the daemon).
  BackendOptions options{core_config.vault_dir, flags.config, true};
  quorum::InstallQuorumAuthorizer();  // quorum-protected keys (issue 16)
  Server server(config, [options] { return OpenEmbeddedBackend(options); });
  const bool created_dir = EnsureSocketDir(config.socket_path);
  CV_RETURN_IF_ERROR(server.Listen());
  SocketHandover handover;
  if (server.owns_socket_file()) handover = SocketHandover{config.socket_path, created_dir};
  CV_RETURN_IF_ERROR(DropPrivileges(config.user, handover));
  if (server.owns_socket_file() && access(SocketDir(config.socket_path).c_str(), W_OK | X_OK) != 0) {
    std::cerr << "certvaultd: " << SocketDir(config.socket_path)
              << " is not writable by this user: the socket will not be removed at exit\n";
  }
  // The counter is enforced when only this user can write the vault
  // (docs/threat-model.md): refuse a shared directory, warn about the rest.
  std::vector<std::string> warnings;
  CV_RETURN_IF_ERROR(CheckVaultPermissions(core_config.vault_dir, geteuid(), &warnings));
  for (const std::string& w : warnings) std::cerr << "certvaultd: warning: " << w << "\n";
  g_server = &server;
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::cerr << "certvaultd: serving " << core_config.vault_dir << " on " << config.socket_path << "\n";
  selftest::PeriodicSelfTest periodic(std::chrono::seconds(config.selftest_interval_s));
  Status s = server.Run();
  g_server = nullptr;
  return s;
}

}  // namespace
}  // namespace certvault::daemon

int main(int argc, char** argv) {
  // As the CLI: certvault's crypto uses crypto::LibCtx(); the default context
  // never loads OPENSSL_CONF, so nothing in certvaultd can reach a provider
  // that the environment's configuration would activate.
  (void)OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr);
  certvault::daemon::Flags flags;
  if (!certvault::daemon::ParseFlags(argc, argv, &flags)) {
    std::cerr << "usage: certvaultd [--config FILE] [--vault DIR] [--socket PATH] [--user NAME]\n";
    return 2;
  }
  try {
    certvault::Status s = certvault::daemon::Start(flags);
    if (!s.ok()) {
      std::cerr << "certvaultd: " << s.ToString() << "\n";
      return 1;
    }
  } catch (const std::exception& e) {
    std::cerr << "certvaultd: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
