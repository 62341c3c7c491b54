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

Status CheckPinFileMode(const struct stat& st, const std::string& path) {
  // Neither the group nor others, as for the CA's PIN files. A service whose
  // workers re-read the PIN gets a file of its own user (mode 600): root (a
  // master process) reads it regardless (docs/design/provider.md).
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return FailedPreconditionError("the PIN file " + path +
                                   " must not be accessible to its group or others (chmod 600)");
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
  if (Status mode = CheckPinFileMode(st, path); !mode.ok()) {
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
