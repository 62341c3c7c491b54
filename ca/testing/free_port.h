// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// FreeLoopbackPort: a TCP port on 127.0.0.1 that was free a moment ago (0 on
// failure), for tests and benchmarks that start servers (PostgreSQL, the
// OCSP responder). Another process may take it meanwhile; callers that can
// retry should.
#ifndef CERTVAULT_CA_TESTING_FREE_PORT_H_
#define CERTVAULT_CA_TESTING_FREE_PORT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

namespace certvault::ca::testing {

inline uint16_t FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  uint16_t port = 0;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  if (fd >= 0) close(fd);
  return port;
}

}  // namespace certvault::ca::testing

#endif  // CERTVAULT_CA_TESTING_FREE_PORT_H_
