// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/instance/ca_state.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <sstream>

#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

constexpr std::string_view kMagic = "certvault-ca-state 1";

Status Corrupt() { return DataLossError("the CA state object in the token is malformed"); }

}  // namespace

Bytes CaState::Encode() const {
  std::ostringstream out;
  out << kMagic << "\nsigned " << last_signed << "\n";
  for (const auto& [key, number] : crl_numbers) out << "crl " << key.first << " " << key.second << " " << number << "\n";
  for (const auto& [ca, id] : revocation_ids) out << "revocations " << ca << " " << id << "\n";
  std::string s = out.str();
  return Bytes(s.begin(), s.end());
}

Result<CaState> CaState::Decode(std::span<const uint8_t> data) {
  CaState state;
  if (data.empty()) return state;
  std::istringstream in(std::string(data.begin(), data.end()));
  std::string line;
  if (!std::getline(in, line) || line != kMagic) return Corrupt();
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string kind, ca;
    fields >> kind;
    if (kind == "signed") {
      if (!(fields >> state.last_signed)) return Corrupt();
    } else if (kind == "crl") {
      uint32_t part = 0;
      int64_t number = 0;
      if (!(fields >> ca >> part >> number)) return Corrupt();
      state.crl_numbers[{ca, part}] = number;
    } else if (kind == "revocations") {
      int64_t id = 0;
      if (!(fields >> ca >> id)) return Corrupt();
      state.revocation_ids[ca] = id;
    } else {
      return Corrupt();
    }
  }
  return state;
}

void CaState::Merge(const CaState& other) {
  last_signed = std::max(last_signed, other.last_signed);
  for (const auto& [key, number] : other.crl_numbers) crl_numbers[key] = std::max(crl_numbers[key], number);
  for (const auto& [ca, id] : other.revocation_ids) revocation_ids[ca] = std::max(revocation_ids[ca], id);
}

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
  uint64_t secs = (uint64_t{packet[40]} << 24) | (uint64_t{packet[41]} << 16) | (uint64_t{packet[42]} << 8) | packet[43];
  return static_cast<int64_t>(secs) - kNtpToUnix;
}

}  // namespace

Result<int64_t> QueryNtpTime(const std::string& url, int timeout_ms) {
  CV_ASSIGN_OR_RETURN(int fd, Connect(url));
  Result<int64_t> t = UnavailableError("time_source: no answer");
  for (int attempt = 0; attempt < 3 && !t.ok(); ++attempt) t = Ask(fd, timeout_ms);
  close(fd);
  return t;
}

}  // namespace certvault::ca
