// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvaultd's process hardening, each check in a forked child so that the
// test binary itself is not changed: no core dumps, not dumpable, the OpenSSL
// secure heap on, and (as root) the irreversible switch to an unprivileged user.
#include "daemon/hardening.h"

#include <gtest/gtest.h>
#include <openssl/crypto.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace certvault::daemon {
namespace {

// InChild: runs `f` in a forked child; returns its exit code (f's result).
template <typename F>
int InChild(F f) {
  pid_t pid = fork();
  if (pid == 0) _exit(f());
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST(HardeningTest, NoCoreDumpsNotDumpableSecureHeap) {
  EXPECT_EQ(InChild([] {
              DaemonConfig c;
              c.secure_heap_kib = 256;
              if (!HardenProcess(c).ok()) return 1;
              struct rlimit core;
              if (getrlimit(RLIMIT_CORE, &core) != 0 || core.rlim_cur != 0 || core.rlim_max != 0) return 2;
              if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) return 3;
              if (CRYPTO_secure_malloc_initialized() != 1) return 4;
              void* p = OPENSSL_secure_malloc(64);
              bool secure = p != nullptr && CRYPTO_secure_allocated(p) == 1;
              OPENSSL_secure_free(p);
              return secure ? 0 : 5;
            }),
            0);
}

TEST(HardeningTest, DropsToAnUnprivilegedUserIrreversibly) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  char dir[] = "/tmp/cv-hardening-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  ASSERT_EQ(chmod(dir, 0755), 0);  // the user must reach the socket to stat it
  const std::string path = std::string(dir) + "/s.sock";
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  close(fd);
  EXPECT_EQ(InChild([&path] {
              if (!DropPrivileges("nobody", SocketHandover{path, false}).ok()) return 1;
              struct stat st;
              if (stat(path.c_str(), &st) != 0 || st.st_uid != getuid()) return 5;  // the socket now belongs to the user
              if (getuid() == 0 || geteuid() == 0 || getgid() == 0) return 2;
              if (setuid(0) == 0) return 3;
              return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0 : 4;
            }),
            0);
  unlink(path.c_str());
  rmdir(dir);
  EXPECT_FALSE(DropPrivileges("no-such-user-certvault").ok());
}

}  // namespace
}  // namespace certvault::daemon
