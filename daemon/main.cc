// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvaultd: serves one vault over a Unix socket (docs/design/daemon.md).
//   certvaultd [--config FILE] [--vault DIR] [--socket PATH] [--user NAME]
// Runs in the foreground (systemd Type=simple; logs go to stderr). Settings
// come from the [daemon] section of the config file; flags override them.
// Exit: 0 after SIGTERM/SIGINT, 1 on a start-up error, 2 on bad flags.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <string>

#include "daemon/hardening.h"
#include "daemon/server.h"
#include "src/base/status_macros.h"
#include "src/core/config.h"
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

// EnsureSocketDir: creates the socket's directory (0755) if missing.
void EnsureSocketDir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return;
  (void)mkdir(path.substr(0, slash).c_str(), 0755);
}

void LogToStderr(std::string_view line) { std::cerr << "certvaultd: " << line << "\n"; }

Status Start(const Flags& flags) {
  // Power-on self-tests before anything else: a failure refuses service
  // (exit 1), and a restart reruns them (docs/design/selftest.md).
  selftest::SetLogSink(LogToStderr);
  CV_RETURN_IF_ERROR(selftest::RunPowerOnSelfTests());
  CV_ASSIGN_OR_RETURN(core::Config core_config, core::LoadConfig(flags.vault, flags.config));
  CV_ASSIGN_OR_RETURN(DaemonConfig config, ParseDaemonSettings(core_config.daemon_settings));
  if (!flags.socket.empty()) config.socket_path = flags.socket;
  if (config.socket_path.empty()) config.socket_path = DefaultSocketPath();
  if (!flags.user.empty()) config.user = flags.user;
  CV_RETURN_IF_ERROR(HardenProcess(config));
  // The daemon owns the vault: it may create the directory (`certvault init` over the daemon).
  BackendOptions options{core_config.vault_dir, flags.config, true};
  Server server(config, [options] { return OpenEmbeddedBackend(options); });
  EnsureSocketDir(config.socket_path);
  CV_RETURN_IF_ERROR(server.Listen());
  CV_RETURN_IF_ERROR(DropPrivileges(config.user, server.owns_socket_file() ? config.socket_path : std::string()));
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
