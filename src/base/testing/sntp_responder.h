// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// SntpResponder (tests only): an SNTP server (RFC 4330) on 127.0.0.1, on a
// port the kernel picks, whose clock is `offset` seconds ahead of the local
// one (set_offset changes it). It answers every request until destroyed.
#ifndef CERTVAULT_BASE_TESTING_SNTP_RESPONDER_H_
#define CERTVAULT_BASE_TESTING_SNTP_RESPONDER_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <ctime>
#include <string>
#include <thread>

namespace certvault::testing {

class SntpResponder {
 public:
  explicit SntpResponder(int64_t offset) : fd_(socket(AF_INET, SOCK_DGRAM, 0)), offset_(offset) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
    thread_ = std::thread([this] { Serve(); });
  }
  ~SntpResponder() {
    shutdown(fd_, SHUT_RDWR);  // wakes the blocked recvfrom (it returns 0)
    thread_.join();
    close(fd_);
  }
  SntpResponder(const SntpResponder&) = delete;
  SntpResponder& operator=(const SntpResponder&) = delete;

  void set_offset(int64_t offset) { offset_.store(offset); }
  std::string url() const { return "ntp://127.0.0.1:" + std::to_string(port_); }

 private:
  void Serve() {
    std::array<uint8_t, 48> p{};
    for (;;) {
      sockaddr_in peer{};
      socklen_t plen = sizeof(peer);
      if (recvfrom(fd_, p.data(), p.size(), 0, reinterpret_cast<sockaddr*>(&peer), &plen) != 48) return;
      // RFC 4330 §5: transmit timestamp, seconds since 1900.
      uint32_t secs = static_cast<uint32_t>(time(nullptr) + offset_.load() + 2208988800LL);
      p.fill(0);
      p[0] = 0x24;  // LI 0, VN 4, mode 4 (server)
      p[1] = 1;     // stratum 1
      for (int i = 0; i < 4; ++i) p[40 + i] = static_cast<uint8_t>(secs >> (24 - 8 * i));
      sendto(fd_, p.data(), p.size(), 0, reinterpret_cast<sockaddr*>(&peer), plen);
    }
  }

  int fd_;
  std::atomic<int64_t> offset_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace certvault::testing

#endif  // CERTVAULT_BASE_TESTING_SNTP_RESPONDER_H_
