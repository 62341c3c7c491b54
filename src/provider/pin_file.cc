// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/provider/pin_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace certvault::provider {

SecretBytes FirstLine(std::span<const uint8_t> contents) {
  size_t n = 0;
  while (n < contents.size() && contents[n] != '\n' && contents[n] != '\r') ++n;
  return SecretBytes(contents.first(n), SecretAccess::Get());
}

Status CheckPinFileMode(const struct stat& st, uid_t reader, const std::string& path) {
  // Others never, the group never for writing. Group read only where it is
  // how a service gets the PIN: a root-owned file shared with the service's
  // group (nginx reads it as root in its master, then in its workers through
  // the group; docs/design/provider.md), or any reader that is not the owner.
  bool group_needed = st.st_uid == 0 || st.st_uid != reader;
  if ((st.st_mode & S_IRWXO) != 0 || (st.st_mode & S_IWGRP) != 0 ||
      ((st.st_mode & S_IRWXG) != 0 && !group_needed)) {
    return FailedPreconditionError("the PIN file " + path +
                                   " must not be accessible to others, writable by its group, or readable by the "
                                   "group of an owner other than root who reads it (chmod 600)");
  }
  return OkStatus();
}

Result<SecretBytes> ReadPinFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string msg = "cannot read the PIN file " + path + ": " + std::strerror(err);
    return err == EACCES ? PermissionDeniedError(msg) : NotFoundError(msg);
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return UnavailableError("cannot stat the PIN file " + path);
  }
  if (Status mode = CheckPinFileMode(st, geteuid(), path); !mode.ok()) {
    close(fd);
    return mode;
  }
  SecretBytes buf(kMaxPinFileSize);
  ssize_t n = read(fd, buf.MutableBytes(SecretAccess::Get()).data(), kMaxPinFileSize);
  close(fd);
  if (n < 0) return UnavailableError("cannot read the PIN file " + path);
  SecretBytes pin = FirstLine(buf.Bytes(SecretAccess::Get()).first(static_cast<size_t>(n)));
  if (pin.size() == 0) return InvalidArgumentError("the PIN file " + path + " is empty");
  return pin;
}

}  // namespace certvault::provider
