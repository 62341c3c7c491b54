// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Socket I/O for IPC frames over AF_UNIX stream sockets, shared by the
// daemon client and certvaultd. All descriptors are close-on-exec; writes use
// MSG_NOSIGNAL (a dead peer is an error, never SIGPIPE).
#ifndef CERTVAULT_IPC_SOCKET_IO_H_
#define CERTVAULT_IPC_SOCKET_IO_H_

#include <cstdint>
#include <span>
#include <string>

#include "src/base/result.h"
#include "src/ipc/wire.h"

namespace certvault::ipc {

// ConnectUnix: a connected socket to `path` whose reads and writes time out
// after `timeout_ms` (SO_RCVTIMEO/SO_SNDTIMEO). kUnavailable if nothing
// listens there, kInvalidArgument if the path is too long.
Result<int> ConnectUnix(const std::string& path, int timeout_ms);

// WriteAll: the whole buffer. kUnavailable if the peer is gone,
// kDeadlineExceeded on a send timeout.
Status WriteAll(int fd, std::span<const uint8_t> data);

// FrameReader: reads frames from one socket with as few read(2) calls as
// possible (usually one per frame) and keeps any bytes that follow a frame.
// Not thread-safe: one reader per connection.
class FrameReader {
 public:
  explicit FrameReader(uint32_t max_frame) : max_frame_(max_frame) {}

  // Next: the next complete frame (length field included), viewing the
  // reader's buffer until the next call. Before its first byte it waits as
  // the socket does (blocking, or SO_RCVTIMEO); once part of a frame is in,
  // every further wait is bounded by `partial_timeout_ms`.
  // kUnavailable: the peer closed (or reset) the connection; kDeadlineExceeded:
  // a timeout; kInvalidArgument: a length over the limit (the stream cannot be
  // resynchronized: close it).
  Status Next(int fd, int partial_timeout_ms, std::span<const uint8_t>* frame);

  // buffered: bytes received but not returned yet (after the current frame).
  size_t buffered() const { return end_ - next_; }

  // set_spin_us: before blocking for the first byte of a frame, poll the
  // socket without blocking (yielding the CPU between polls) for up to this
  // many microseconds. A round trip whose answer comes within the window then
  // costs no sleep and wake-up on this side, which is most of an AF_UNIX round
  // trip's latency. 0 (default) blocks at once.
  void set_spin_us(int us) { spin_us_ = us; }

 private:
  Status Fill(int fd, bool partial, int partial_timeout_ms);
  // Spin: up to spin_us_ of non-blocking reads; true if it received bytes (or
  // an error/EOF into *status), false to fall back to a blocking read.
  bool Spin(int fd, Status* status);
  void Release();  // wipes and drops the frame returned last

  uint32_t max_frame_;
  int spin_us_ = 0;
  WireBuffer buf_;
  size_t start_ = 0;  // first byte of the frame returned last
  size_t next_ = 0;   // first byte after it
  size_t end_ = 0;    // end of received data
};

}  // namespace certvault::ipc

#endif  // CERTVAULT_IPC_SOCKET_IO_H_
