// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvaultd and the self-tests: a failed power-on test refuses service
// (certvaultd-faults: a test-only build with fault injection compiled in),
// and the rerun interval is configurable. The periodic rerun itself is
// tested in src/selftest/selftest_fault_test.cc.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "daemon/daemon_config.h"

namespace certvault::daemon {
namespace {

struct Outcome {
  int exit_code = -1;
  std::string err;
};

// RunDaemon: certvaultd-faults with `fault` injected, on a fresh vault;
// stderr is captured. It must exit by itself (the fault refuses start-up).
Outcome RunDaemon(const char* fault, const std::string& dir) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 2);
    close(fds[0]);
    setenv("CERTVAULT_SELFTEST_FAULT", fault, 1);
    std::string vault = dir + "/vault", sock = dir + "/d.sock";
    execl(CV_DAEMON_FAULT_PATH, "certvaultd", "--vault", vault.c_str(), "--socket", sock.c_str(), nullptr);
    _exit(127);
  }
  close(fds[1]);
  Outcome out;
  char buf[512];
  ssize_t n = 0;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) out.err.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -2;
  return out;
}

TEST(DaemonSelfTest, EachFailedPowerOnTestRefusesService) {
  char tmpl[] = "/tmp/cv-daemon-selftest-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  for (const char* name : {"integrity", "drbg", "sha256", "sha384", "hmac-sha256", "aes-gcm", "ecdsa-p256",
                           "ecdsa-p384", "ed25519", "rsa-pss", "argon2id"}) {
    Outcome out = RunDaemon(name, tmpl);
    EXPECT_EQ(out.exit_code, 1) << name << ": " << out.err;
    EXPECT_NE(out.err.find(std::string("error state: ") + name), std::string::npos) << out.err;
    EXPECT_FALSE(std::filesystem::exists(std::string(tmpl) + "/d.sock")) << name;
  }
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
}

TEST(DaemonSelfTest, IntervalIsConfigurable) {
  EXPECT_EQ(ParseDaemonSettings({})->selftest_interval_s, 3600u);
  EXPECT_EQ(ParseDaemonSettings({{"selftest_interval_s", "0"}})->selftest_interval_s, 0u);
  EXPECT_EQ(ParseDaemonSettings({{"selftest_interval_s", "60"}})->selftest_interval_s, 60u);
  EXPECT_FALSE(ParseDaemonSettings({{"selftest_interval_s", "soon"}}).ok());
  EXPECT_FALSE(ParseDaemonSettings({{"selftest_interval_s", "99999999"}}).ok());
}

}  // namespace
}  // namespace certvault::daemon
