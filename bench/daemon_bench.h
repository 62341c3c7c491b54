// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The certvaultd scenarios of certvault-bench (README.md, "Daemon mode"):
// a certvaultd child process on a private vault and socket, a second copy of
// our module configured as its client, multi-process signing and round-trip
// latency percentiles.
#ifndef CERTVAULT_BENCH_DAEMON_BENCH_H_
#define CERTVAULT_BENCH_DAEMON_BENCH_H_

#include <sys/types.h>

#include <filesystem>
#include <string>

#include "bench/scenarios.h"

namespace certvault::bench {

// DaemonProcess: a running certvaultd, stopped (SIGTERM, then waited for) on
// destruction.
class DaemonProcess {
 public:
  // Start runs `daemon_path` serving `dir`/daemon-vault on `dir`/certvaultd.sock
  // (with `config` as its config file, if set) and waits (up to 10 s) until
  // it accepts connections.
  static Result<std::unique_ptr<DaemonProcess>> Start(const std::string& daemon_path, const std::filesystem::path& dir,
                                                      const std::string& config = "");
  ~DaemonProcess();
  const std::string& socket() const { return socket_; }
  pid_t pid() const { return pid_; }

 private:
  DaemonProcess(pid_t pid, std::string socket) : pid_(pid), socket_(std::move(socket)) {}
  pid_t pid_;
  std::string socket_;
};

// SetUpDaemonTarget: our module as a certvaultd client. The module is copied
// to `dir` first so that this dlopen gets its own instance beside the
// embedded one, and CERTVAULT_SOCKET is set only around its C_Initialize.
Result<Target> SetUpDaemonTarget(const std::string& module_path, const std::filesystem::path& dir,
                                 const std::string& socket);

// ProcessRun: what a multi-process signing run measured. CPU times are per
// signature: the client processes' own, and certvaultd's (0 without one).
struct ProcessRun {
  double ops_per_s = 0;
  double client_cpu_us = 0;
  double daemon_cpu_us = 0;
};

// ProcessSignOpsPerSec: total ECDSA P-256 C_SignInit + C_Sign per second of
// `procs` forked processes, each re-initializing the module and signing on
// its own logged-in session with one shared token key, for `seconds`. With a
// `socket`, the children set CERTVAULT_SOCKET to it before C_Initialize, and
// the CPU time of `daemon_pid` over the run is charged to the signatures.
Result<ProcessRun> ProcessSignOpsPerSec(Target& t, int procs, double seconds, const std::string& socket,
                                        pid_t daemon_pid);

struct Percentiles {
  double p50_us = 0;
  double p99_us = 0;
};
// NoopLatency: a no-op request to the daemon (ipc Ping) on `socket`, `n` times.
Result<Percentiles> NoopLatency(const std::string& socket, int n);
// SignLatency: C_SignInit + C_Sign ECDSA P-256 round trips through `t`, `n` times.
Result<Percentiles> SignLatency(Target& t, int n);

}  // namespace certvault::bench

#endif  // CERTVAULT_BENCH_DAEMON_BENCH_H_
