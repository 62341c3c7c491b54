// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "bench/daemon_bench.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>
#include <vector>

#include "src/base/status_macros.h"
#include "src/ipc/client.h"

namespace certvault::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::array<uint8_t, 32> kDigest = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                             0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01};

Percentiles Summarize(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[std::min(us.size() - 1, us.size() * 99 / 100)]};
}

// ChildResult: what a signing child reports through the result pipe.
struct ChildResult {
  uint64_t signatures = 0;
  uint64_t cpu_ns = 0;  // the child's CPU time while signing
};

uint64_t ProcessCpuNs() {
  struct timespec ts = {};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// CpuNsOf: CPU time of process `pid` so far, all its threads, live or ended
// (utime + stime of /proc/PID/stat, in clock ticks), 0 if unknown.
uint64_t CpuNsOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t comm_end = stat.rfind(')');  // the command name may hold spaces
  if (comm_end == std::string::npos) return 0;
  std::istringstream fields(stat.substr(comm_end + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // state .. cmajflt: fields 3-13
  uint64_t utime = 0, stime = 0;
  if (!(fields >> utime >> stime)) return 0;
  return (utime + stime) * (1000000000u / static_cast<uint64_t>(sysconf(_SC_CLK_TCK)));
}

// ChildSignLoop: runs in a forked child. Waits for the start byte on
// `start_fd`, signs for `seconds`, writes a ChildResult to `result_fd`.
[[noreturn]] void ChildSignLoop(Target& t, CK_OBJECT_HANDLE key, double seconds, int start_fd, int result_fd) {
  ChildResult r;
  CK_C_INITIALIZE_ARGS args = {};
  args.flags = CKF_OS_LOCKING_OK;
  // After fork the module is not initialized in the child (PKCS#11 §5.4 / module.h).
  if (t.module->fn()->C_Initialize(&args) == CKR_OK) {
    Result<CK_SESSION_HANDLE> s = t.module->OpenSession(t.slot, kUserPin);
    char go = 0;
    if (s.ok() && read(start_fd, &go, 1) == 1) {
      std::vector<uint8_t> sig;
      const uint64_t cpu0 = ProcessCpuNs();
      const auto end = Clock::now() + std::chrono::duration<double>(seconds);
      while (Clock::now() < end && t.module->Sign(*s, CKM_ECDSA, key, kDigest, sig).ok()) ++r.signatures;
      r.cpu_ns = ProcessCpuNs() - cpu0;
    }
  }
  (void)!write(result_fd, &r, sizeof r);
  _exit(0);
}

}  // namespace

Result<std::unique_ptr<DaemonProcess>> DaemonProcess::Start(const std::string& daemon_path,
                                                            const std::filesystem::path& dir,
                                                            const std::string& config) {
  const std::string vault = (dir / "daemon-vault").string();
  const std::string socket = (dir / "certvaultd.sock").string();
  std::filesystem::create_directories(vault);
  pid_t pid = fork();
  if (pid < 0) return InternalError("fork");
  if (pid == 0) {
    setenv("CERTVAULT_HOME", vault.c_str(), 1);
    unsetenv("CERTVAULT_CONF");
    if (config.empty()) {
      execl(daemon_path.c_str(), daemon_path.c_str(), "--socket", socket.c_str(), static_cast<char*>(nullptr));
    } else {
      execl(daemon_path.c_str(), daemon_path.c_str(), "--socket", socket.c_str(), "--vault", vault.c_str(), "--config",
            config.c_str(), static_cast<char*>(nullptr));
    }
    _exit(127);
  }
  auto d = std::unique_ptr<DaemonProcess>(new DaemonProcess(pid, socket));
  ipc::ClientOptions o;
  o.socket_path = socket;
  CV_ASSIGN_OR_RETURN(auto probe, ipc::OpenDaemonBackend(o));
  for (int i = 0; i < 200; ++i) {
    if (ipc::PingDaemon(probe.get()).ok()) return d;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return UnavailableError("certvaultd did not start");
}

DaemonProcess::~DaemonProcess() {
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
}

Result<Target> SetUpDaemonTarget(const std::string& module_path, const std::filesystem::path& dir,
                                 const std::string& socket) {
  const std::filesystem::path copy = dir / "libcertvault-pkcs11-daemon.so";
  std::error_code ec;
  std::filesystem::copy_file(module_path, copy, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) return InternalError("cannot copy the module: " + ec.message());
  setenv("CERTVAULT_SOCKET", socket.c_str(), 1);
  Result<Target> t = SetUpTarget("certvaultd", copy.string());
  unsetenv("CERTVAULT_SOCKET");
  return t;
}

Result<ProcessRun> ProcessSignOpsPerSec(Target& t, int procs, double seconds, const std::string& socket,
                                        pid_t daemon_pid) {
  CV_ASSIGN_OR_RETURN(CK_SESSION_HANDLE setup, t.module->OpenSession(t.slot, kUserPin));
  CV_ASSIGN_OR_RETURN(KeyPair pair, t.module->GenerateKeyPair(setup, KeyKind::kEcP256, true));
  int start[2], result[2];
  if (pipe(start) != 0 || pipe(result) != 0) return InternalError("pipe");
  std::vector<pid_t> children;
  for (int i = 0; i < procs; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      if (!socket.empty()) setenv("CERTVAULT_SOCKET", socket.c_str(), 1);
      ChildSignLoop(t, pair.priv, seconds, start[0], result[1]);
    }
    if (pid > 0) children.push_back(pid);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // children log in (Argon2id)
  const uint64_t daemon0 = daemon_pid > 0 ? CpuNsOf(daemon_pid) : 0;
  for (size_t i = 0; i < children.size(); ++i) (void)!write(start[1], "g", 1);
  ChildResult total;
  for (size_t i = 0; i < children.size(); ++i) {
    ChildResult r;
    if (read(result[0], &r, sizeof r) != sizeof r) continue;
    total.signatures += r.signatures;
    total.cpu_ns += r.cpu_ns;
  }
  const uint64_t daemon_ns = daemon_pid > 0 ? CpuNsOf(daemon_pid) - daemon0 : 0;
  for (pid_t pid : children) waitpid(pid, nullptr, 0);
  for (int fd : {start[0], start[1], result[0], result[1]}) close(fd);
  t.module->fn()->C_CloseSession(setup);
  if (total.signatures == 0 || static_cast<int>(children.size()) != procs) {
    return InternalError("child processes did not sign");
  }
  const double n = static_cast<double>(total.signatures);
  return ProcessRun{n / seconds, total.cpu_ns / n / 1000.0, daemon_ns / n / 1000.0};
}

Result<Percentiles> NoopLatency(const std::string& socket, int n) {
  ipc::ClientOptions o;
  o.socket_path = socket;
  CV_ASSIGN_OR_RETURN(auto client, ipc::OpenDaemonBackend(o));
  CV_RETURN_IF_ERROR(ipc::PingDaemon(client.get()));  // connect outside the measurement
  std::vector<double> us;
  us.reserve(n);
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    CV_RETURN_IF_ERROR(ipc::PingDaemon(client.get()));
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  return Summarize(std::move(us));
}

Result<Percentiles> SignLatency(Target& t, int n) {
  CV_ASSIGN_OR_RETURN(CK_SESSION_HANDLE s, t.module->OpenSession(t.slot, kUserPin));
  CV_ASSIGN_OR_RETURN(KeyPair pair, t.module->GenerateKeyPair(s, KeyKind::kEcP256, false));
  std::vector<uint8_t> sig;
  CV_RETURN_IF_ERROR(t.module->Sign(s, CKM_ECDSA, pair.priv, kDigest, sig));
  std::vector<double> us;
  us.reserve(n);
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    CV_RETURN_IF_ERROR(t.module->Sign(s, CKM_ECDSA, pair.priv, kDigest, sig));
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  t.module->fn()->C_CloseSession(s);
  return Summarize(std::move(us));
}

}  // namespace certvault::bench
