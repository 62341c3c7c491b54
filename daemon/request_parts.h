// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// RequestParts: one connection's request that came in several frames
// (Op::kContinued parts, then the frame of the call itself; see
// docs/formats/ipc.md, "Requests over one frame"). A single-part call such
// as C_Sign over a 10 MB firmware image cannot be cut into updates without
// changing what the backend sees, so the daemon reassembles the request
// and the call runs on the whole input, as it would embedded. Memory is
// bounded twice: per request (`max_request_bytes`) and for all connections
// together (a shared budget, so that many connections cannot add up to more
// than the daemon was sized for).
#ifndef CERTVAULT_DAEMON_REQUEST_PARTS_H_
#define CERTVAULT_DAEMON_REQUEST_PARTS_H_

#include <atomic>
#include <cstddef>
#include <span>

#include "src/base/status.h"
#include "src/ipc/wire.h"

namespace certvault::daemon {

// PartsBudget: bytes held in RequestParts by all connections.
struct PartsBudget {
  explicit PartsBudget(size_t bytes) : limit(bytes) {}
  const size_t limit;
  std::atomic<size_t> used{0};
};

class RequestParts {
 public:
  RequestParts(PartsBudget* budget, size_t max_request) : budget_(budget), max_request_(max_request) {}
  ~RequestParts() { Clear(); }
  RequestParts(const RequestParts&) = delete;
  RequestParts& operator=(const RequestParts&) = delete;

  // Collect: what a request frame of `op` with `body` is. False: a kContinued
  // part, held (or refused), and `*status` is the answer to send. True: a
  // call to run now on `*request`, the parts held so far joined with `body`
  // (or `body` alone); Clear() after running it.
  bool Collect(ipc::Op op, std::span<const uint8_t> body, std::span<const uint8_t>* request, Status* status);
  // Append: adds a part. kDataLenRange past max_request, kDeviceMemory when
  // the budget is spent; either drops what was held.
  Status Append(std::span<const uint8_t> part);
  bool empty() const { return buf_.empty(); }
  std::span<const uint8_t> bytes() const { return buf_; }
  // Clear: wipes the request (it may hold plaintext) and returns its budget.
  void Clear();

 private:
  PartsBudget* const budget_;
  const size_t max_request_;
  ipc::WireBuffer buf_;
};

}  // namespace certvault::daemon

#endif  // CERTVAULT_DAEMON_REQUEST_PARTS_H_
