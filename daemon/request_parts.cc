// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "daemon/request_parts.h"

namespace certvault::daemon {

bool RequestParts::Collect(ipc::Op op, std::span<const uint8_t> body, std::span<const uint8_t>* request,
                           Status* status) {
  if (op != ipc::Op::kContinued && empty()) {
    *request = body;
    return true;
  }
  *status = Append(body);
  if (op == ipc::Op::kContinued || !status->ok()) return false;
  *request = bytes();
  return true;
}

Status RequestParts::Append(std::span<const uint8_t> part) {
  if (part.size() > max_request_ - buf_.size()) {
    Clear();
    return Status(StatusCode::kInvalidArgument, Reason::kDataLenRange, "request over max_request_bytes");
  }
  if (budget_->used.fetch_add(part.size(), std::memory_order_relaxed) + part.size() > budget_->limit) {
    budget_->used.fetch_sub(part.size(), std::memory_order_relaxed);
    Clear();
    return Status(StatusCode::kResourceExhausted, Reason::kDeviceMemory,
                  "certvaultd: too many large requests at once; try again");
  }
  buf_.insert(buf_.end(), part.begin(), part.end());
  return OkStatus();
}

void RequestParts::Clear() {
  if (buf_.empty()) return;
  budget_->used.fetch_sub(buf_.size(), std::memory_order_relaxed);
  OPENSSL_cleanse(buf_.data(), buf_.size());
  buf_.clear();
}

}  // namespace certvault::daemon
