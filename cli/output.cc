// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "cli/output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "src/base/secure_allocator.h"

namespace certvault::cli {
namespace {

bool IsAuthReason(Reason r) {
  switch (r) {
    case Reason::kPinIncorrect:
    case Reason::kPinLocked:
    case Reason::kPinExpired:
    case Reason::kPinInvalid:
    case Reason::kPinLenRange:
    case Reason::kUserNotLoggedIn:
    case Reason::kUserPinNotInitialized:
    case Reason::kUserTypeInvalid:
    case Reason::kUserAlreadyLoggedIn:
    case Reason::kUserAnotherAlreadyLoggedIn:
      return true;
    default:
      return false;
  }
}

bool IsNotFoundReason(Reason r) {
  switch (r) {
    case Reason::kTokenNotPresent:
    case Reason::kTokenNotRecognized:
    case Reason::kSlotIdInvalid:
    case Reason::kObjectHandleInvalid:
    case Reason::kKeyHandleInvalid:
      return true;
    default:
      return false;
  }
}

bool IsPolicyReason(Reason r) {
  switch (r) {
    case Reason::kKeyFunctionNotPermitted:
    case Reason::kKeyUnextractable:
    case Reason::kKeyNotWrappable:
    case Reason::kAttributeSensitive:
    case Reason::kAttributeReadOnly:
    case Reason::kCapacityExceeded:
    case Reason::kTokenWriteProtected:
    case Reason::kMechanismInvalid:
    case Reason::kKeySizeRange:
    case Reason::kCurveNotSupported:
    case Reason::kTemplateInconsistent:
      return true;
    default:
      return false;
  }
}

Status ErrnoError(std::string_view what, const std::string& path) {
  return Status(StatusCode::kUnavailable, Reason::kDeviceError,
                std::string(what) + " '" + path + "': " + std::strerror(errno));
}

template <typename Vec>
Status ReadInto(const std::string& path, size_t max_size, Vec* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFoundError("no such file '" + path + "'");
    return ErrnoError("cannot open", path);
  }
  uint8_t buf[4096];
  Status status;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = ErrnoError("cannot read", path);
    if (n <= 0) break;
    if (out->size() + static_cast<size_t>(n) > max_size) {
      status = OutOfRangeError("file '" + path + "' is too large");
      break;
    }
    out->insert(out->end(), buf, buf + n);
  }
  OPENSSL_cleanse(buf, sizeof(buf));
  ::close(fd);
  return status;
}

}  // namespace

int ExitCodeFor(const Status& status) {
  if (status.ok()) return kExitOk;
  Reason r = status.reason();
  if (IsAuthReason(r)) return kExitAuth;
  if (IsNotFoundReason(r)) return kExitNotFound;
  if (IsPolicyReason(r)) return kExitPolicy;
  switch (status.code()) {
    case StatusCode::kInvalidArgument: return kExitUsage;
    case StatusCode::kAlreadyExists: return kExitUsage;
    case StatusCode::kNotFound: return kExitNotFound;
    case StatusCode::kUnauthenticated: return kExitAuth;
    case StatusCode::kPermissionDenied: return kExitPolicy;
    default: return kExitVault;
  }
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

JsonObject& JsonObject::Add(std::string_view key, std::string_view value) {
  fields_.emplace_back(std::string(key), JsonString(value));
  return *this;
}
JsonObject& JsonObject::AddRaw(std::string_view key, std::string_view json) {
  fields_.emplace_back(std::string(key), std::string(json));
  return *this;
}
JsonObject& JsonObject::AddInt(std::string_view key, uint64_t value) {
  fields_.emplace_back(std::string(key), std::to_string(value));
  return *this;
}
JsonObject& JsonObject::AddBool(std::string_view key, bool value) {
  fields_.emplace_back(std::string(key), value ? "true" : "false");
  return *this;
}

std::string JsonObject::Build() const {
  std::string out = "{";
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (i != 0) out += ",";
    out += JsonString(fields_[i].first) + ":" + fields_[i].second;
  }
  return out + "}";
}

std::string JsonArray(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i != 0 ? "," : "") + items[i];
  return out + "]";
}

Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> data, unsigned mode) {
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) return ErrnoError("cannot create a file beside", path);
  bool ok = ::fchmod(fd, static_cast<mode_t>(mode)) == 0;
  size_t done = 0;
  while (ok && done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  Status status = ok ? OkStatus() : ErrnoError("cannot write", path);
  ::close(fd);
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) status = ErrnoError("cannot rename onto", path);
  if (!status.ok()) ::unlink(tmp.c_str());
  return status;
}

Result<Bytes> ReadFile(const std::string& path, size_t max_size) {
  Bytes out;
  Status status = ReadInto(path, max_size, &out);
  if (!status.ok()) return status;
  return out;
}

Result<SecretBytes> ReadSecretFile(const std::string& path, size_t max_size) {
  SecureVector out;
  Status status = ReadInto(path, max_size, &out);
  if (!status.ok()) return status;
  return SecretBytes(std::move(out));
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\0')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace certvault::cli
