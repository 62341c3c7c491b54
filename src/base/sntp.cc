// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/base/sntp.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <memory>

#include "src/base/status_macros.h"

namespace certvault {
namespace {

// RFC 4330 §5: seconds between 1900-01-01 (NTP era 0) and the Unix epoch.
constexpr int64_t kNtpToUnix = 2208988800LL;

struct AddrInfoDeleter {
  void operator()(addrinfo* ai) const { freeaddrinfo(ai); }
};

Result<int> Connect(const std::string& url) {
  std::string hostport = url.substr(6);  // after "ntp://"
  std::string host = hostport, port = "123";
  if (size_t colon = hostport.rfind(':'); colon != std::string::npos && hostport.find(']') == std::string::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* raw = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &raw) != 0) {
    return UnavailableError("time_source: cannot resolve " + host);
  }
  std::unique_ptr<addrinfo, AddrInfoDeleter> ai(raw);
  int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    if (fd >= 0) close(fd);
    return UnavailableError("time_source: cannot reach " + hostport);
  }
  return fd;
}

// Ask: one SNTP request; the server's transmit timestamp (seconds).
Result<int64_t> Ask(int fd, int timeout_ms) {
  std::array<uint8_t, 48> packet{};
  packet[0] = 0x23;  // LI 0, VN 4, Mode 3 (client)
  if (send(fd, packet.data(), packet.size(), 0) != static_cast<ssize_t>(packet.size())) {
    return UnavailableError("time_source: send failed");
  }
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) != 1) return UnavailableError("time_source: no answer");
  ssize_t n = recv(fd, packet.data(), packet.size(), 0);
  // RFC 4330 §5: a server answers with Mode 4; stratum 0 is a kiss-o'-death.
  if (n != static_cast<ssize_t>(packet.size()) || (packet[0] & 0x7) != 4 || packet[1] == 0) {
    return UnavailableError("time_source: not an SNTP answer");
  }
  uint64_t secs =
      (uint64_t{packet[40]} << 24) | (uint64_t{packet[41]} << 16) | (uint64_t{packet[42]} << 8) | packet[43];
  return static_cast<int64_t>(secs) - kNtpToUnix;
}

}  // namespace

Result<int64_t> QueryNtpTime(const std::string& url, int timeout_ms) {
  if (!url.starts_with("ntp://") || url.size() == 6)
    return InvalidArgumentError("time source must be ntp://HOST[:PORT]");
  CV_ASSIGN_OR_RETURN(int fd, Connect(url));
  Result<int64_t> t = UnavailableError("time_source: no answer");
  for (int attempt = 0; attempt < 3 && !t.ok(); ++attempt) t = Ask(fd, timeout_ms);
  close(fd);
  return t;
}

}  // namespace certvault
