// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "cli/pin.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cli/output.h"
#include "src/base/ct.h"
#include "src/base/status_macros.h"
#include "src/provider/pin_file.h"

namespace certvault::cli {
namespace {

constexpr size_t kMaxPinLength = 256;

struct PinNames {
  std::string_view flag;
  std::string_view file_flag;
  const char* env;
  const char* prompt;
};

PinNames NamesFor(PinKind kind) {
  switch (kind) {
    case PinKind::kSo: return {"so-pin", "so-pin-file", "CERTVAULT_SO_PIN", "SO PIN: "};
    case PinKind::kNewUser: return {"new-pin", "new-pin-file", "CERTVAULT_NEW_PIN", "New user PIN: "};
    case PinKind::kNewSo: return {"new-pin", "new-pin-file", "CERTVAULT_NEW_PIN", "New SO PIN: "};
    case PinKind::kUser:
    default: return {"pin", "pin-file", "CERTVAULT_PIN", "User PIN: "};
  }
}

// TtyEchoOff: restores the terminal's mode on destruction.
class TtyEchoOff {
 public:
  explicit TtyEchoOff(int fd) : fd_(fd) {
    if (tcgetattr(fd_, &saved_) != 0) return;
    struct termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    active_ = tcsetattr(fd_, TCSANOW, &quiet) == 0;
  }
  ~TtyEchoOff() {
    if (active_) tcsetattr(fd_, TCSANOW, &saved_);  // TCSANOW: keep typed-ahead input
  }
  TtyEchoOff(const TtyEchoOff&) = delete;
  TtyEchoOff& operator=(const TtyEchoOff&) = delete;

 private:
  int fd_;
  struct termios saved_ {};
  bool active_ = false;
};

// ReadLineNoEcho: one line from `fd`, byte by byte, straight into SecretBytes.
Result<SecretBytes> ReadLineNoEcho(int fd, const char* prompt) {
  if (::write(fd, prompt, std::strlen(prompt)) < 0) return UnavailableError("cannot write the PIN prompt");
  TtyEchoOff echo_off(fd);
  SecretBytes pin(kMaxPinLength);
  size_t len = 0;
  for (;;) {
    uint8_t c = 0;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    if (len == kMaxPinLength) return Status(Reason::kPinLenRange, "PIN is longer than 256 bytes");
    pin.MutableBytes(SecretAccess::Get())[len++] = c;
  }
  pin.Resize(len);
  return pin;
}

Result<SecretBytes> PromptPin(const PinNames& names, bool confirm) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return Status(StatusCode::kUnauthenticated, Reason::kPinInvalid,
                  std::string("no PIN given and no terminal to ask on: use --") + std::string(names.flag) + ", --" +
                      std::string(names.file_flag) + " or " + names.env);
  }
  Result<SecretBytes> pin = ReadLineNoEcho(fd, names.prompt);
  if (pin.ok() && confirm) {
    Result<SecretBytes> again = ReadLineNoEcho(fd, "Repeat: ");
    if (!again.ok()) pin = std::move(again).status();
    else if (!(*again == *pin)) pin = InvalidArgumentError("the two PINs differ; nothing was changed");
  }
  ::close(fd);
  return pin;
}

Result<SecretBytes> RawPin(Args& args, PinKind kind, bool confirm) {
  PinNames names = NamesFor(kind);
  if (std::optional<SecretBytes> flag = args.TakeSecret(names.flag)) return std::move(*flag);
  if (std::optional<std::string> file = args.Get(names.file_flag)) return ReadPinFile(*file);
  if (const char* env = std::getenv(names.env); env != nullptr) {
    return SecretBytes(std::string_view(env), SecretAccess::Get());
  }
  return PromptPin(names, confirm || kind == PinKind::kNewUser || kind == PinKind::kNewSo);
}

}  // namespace

bool HasPinSource(const Args& args, PinKind kind) {
  PinNames names = NamesFor(kind);
  return args.Has(names.flag) || args.Has(names.file_flag) || std::getenv(names.env) != nullptr;
}

Result<SecretBytes> ObtainPin(Args& args, PinKind kind, bool confirm) {
  CV_ASSIGN_OR_RETURN(SecretBytes pin, RawPin(args, kind, confirm));
  if (pin.empty()) return Status(Reason::kPinLenRange, "the PIN is empty");
  return pin;
}

Result<SecretBytes> ReadPinFile(const std::string& path) { return provider::ReadPinFile(path); }

SecretBytes PinFromFileContents(const SecretBytes& contents) {
  std::span<const uint8_t> bytes = contents.Bytes(SecretAccess::Get());
  size_t len = 0;
  while (len < bytes.size() && bytes[len] != '\n') ++len;
  if (len > 0 && bytes[len - 1] == '\r') --len;
  return SecretBytes(bytes.first(len), SecretAccess::Get());
}

}  // namespace certvault::cli
