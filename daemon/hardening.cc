// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "daemon/hardening.h"

#include <fcntl.h>
#include <grp.h>
#include <openssl/crypto.h>
#include <pwd.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <vector>

#include "src/base/status_macros.h"

namespace certvault::daemon {

namespace {

// ExcludeAnonymousMemoryFromDumps: /proc/self/coredump_filter (core(5)) with
// only bit 4 (ELF headers) set: no anonymous memory (heap, malloc arenas,
// thread stacks, present and future) goes into a core dump of this process,
// neither the kernel's nor gdb's gcore (which honours the filter since gdb
// 8). Where key components leave the OpenSSL secure heap (OpenSSL's own RSA
// temporaries, Montgomery contexts, BN_CTX), they are in such memory.
Status ExcludeAnonymousMemoryFromDumps() {
  int fd = open("/proc/self/coredump_filter", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return InternalError(std::string("open /proc/self/coredump_filter: ") + std::strerror(errno));
  const char kElfHeadersOnly[] = "0x10";
  bool ok = write(fd, kElfHeadersOnly, sizeof(kElfHeadersOnly) - 1) == static_cast<ssize_t>(sizeof(kElfHeadersOnly) - 1);
  close(fd);
  if (!ok) return InternalError("cannot write /proc/self/coredump_filter");
  return OkStatus();
}

// LockAllMemory: no page of the process, present or future, is swapped out
// (key components outside the secure heap included). MCL_ONFAULT locks pages
// as they are touched, so each connection thread's stack reserve is not made
// resident. As root, RLIMIT_MEMLOCK is lifted first: the limit (not the lost
// CAP_IPC_LOCK) is what later mappings are checked against after --user.
// Where it cannot be lifted (no CAP_SYS_RESOURCE, e.g. in a container) and
// privileges are to be dropped, every later thread stack would fail with
// EAGAIN once the limit is reached: refuse to start instead, naming the fix.
Status LockAllMemory(bool drops_privileges) {
  if (geteuid() == 0) {
    struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
    (void)setrlimit(RLIMIT_MEMLOCK, &unlimited);
  }
  struct rlimit now = {};
  constexpr rlim_t kEnoughAfterDrop = rlim_t{1} << 30;
  if (drops_privileges && getrlimit(RLIMIT_MEMLOCK, &now) == 0 && now.rlim_cur != RLIM_INFINITY &&
      now.rlim_cur < kEnoughAfterDrop) {
    return ResourceExhaustedError("lock_memory with --user needs RLIMIT_MEMLOCK unlimited (or at least 1 GiB), but it "
                                  "is " + std::to_string(now.rlim_cur / 1024) +
                                  " KiB and cannot be raised here: set LimitMEMLOCK=infinity (systemd) or "
                                  "lock_memory = false");
  }
  if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0) {
    return ResourceExhaustedError(std::string("mlockall: ") + std::strerror(errno) +
                                  " (raise RLIMIT_MEMLOCK, e.g. LimitMEMLOCK=infinity, or set lock_memory = false)");
  }
  return OkStatus();
}

}  // namespace

Status HardenProcess(const DaemonConfig& config) {
  CV_RETURN_IF_ERROR(ExcludeAnonymousMemoryFromDumps());
  struct rlimit no_core = {0, 0};
  if (setrlimit(RLIMIT_CORE, &no_core) != 0) return InternalError("setrlimit(RLIMIT_CORE)");
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return InternalError("prctl(PR_SET_DUMPABLE)");
  signal(SIGPIPE, SIG_IGN);
  if (config.secure_heap_kib != 0 && CRYPTO_secure_malloc_initialized() == 0) {
    size_t bytes = 4096;  // a power of two
    while (bytes < size_t{config.secure_heap_kib} * 1024) bytes <<= 1;
    // 1: locked; 2: not locked (RLIMIT_MEMLOCK) but still MADV_DONTDUMP.
    int rc = CRYPTO_secure_malloc_init(bytes, 32);
    if (rc == 0) return ResourceExhaustedError("cannot set up the OpenSSL secure heap");
    if (rc == 2) std::cerr << "certvaultd: secure heap is not locked (raise RLIMIT_MEMLOCK)\n";
  }
  if (config.lock_memory) CV_RETURN_IF_ERROR(LockAllMemory(!config.user.empty()));
  return OkStatus();
}

Status GiveToUser(const std::string& path, mode_t type, uid_t uid, gid_t gid) {
  // O_PATH | O_NOFOLLOW opens a symbolic link itself, never its target.
  int fd = open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return PermissionDeniedError("cannot open " + path + ": " + std::strerror(errno));
  struct stat st;
  Status s = OkStatus();
  if (fstat(fd, &st) != 0 || (st.st_mode & S_IFMT) != type || st.st_uid != geteuid()) {
    s = PermissionDeniedError(path + " is not the " + (type == S_IFDIR ? "directory" : "socket") +
                              " certvaultd created (replaced meanwhile?); not changing its owner");
  } else if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) != 0) {
    s = PermissionDeniedError("cannot give " + path + " to the service user: " + std::strerror(errno));
  }
  close(fd);
  return s;
}

Status DropPrivileges(const std::string& user, const SocketHandover& socket) {
  if (user.empty() || geteuid() != 0) return OkStatus();
  struct passwd pw;
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return NotFoundError("unknown user '" + user + "'");
  }
  if (!socket.path.empty()) {
    CV_RETURN_IF_ERROR(GiveToUser(socket.path, S_IFSOCK, pw.pw_uid, pw.pw_gid));
    size_t slash = socket.path.rfind('/');
    if (socket.give_dir && slash != std::string::npos && slash != 0) {
      CV_RETURN_IF_ERROR(GiveToUser(socket.path.substr(0, slash), S_IFDIR, pw.pw_uid, pw.pw_gid));
    }
  }
  if (initgroups(pw.pw_name, pw.pw_gid) != 0 || setgid(pw.pw_gid) != 0 || setuid(pw.pw_uid) != 0) {
    return PermissionDeniedError("cannot switch to user '" + user + "'");
  }
  if (setuid(0) == 0) return PermissionDeniedError("privileges could be regained after the switch");
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return InternalError("prctl(PR_SET_DUMPABLE)");
  return OkStatus();
}

}  // namespace certvault::daemon
