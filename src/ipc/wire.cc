// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/ipc/wire.h"

#include "src/base/byte_reader.h"
#include "src/base/status_macros.h"

namespace certvault::ipc {

void BeginFrame(WireBuffer* buf, uint8_t type, Op op) {
  buf->clear();
  buf->resize(kHeaderSize);
  uint8_t* p = buf->data();
  p[4] = kWireVersion;
  p[5] = type;
  p[6] = static_cast<uint8_t>(static_cast<uint16_t>(op) >> 8);
  p[7] = static_cast<uint8_t>(static_cast<uint16_t>(op));
  p[8] = p[9] = 0;
}

void SetFrameCpu(WireBuffer* buf, uint16_t cpu) {
  uint8_t* p = buf->data();
  p[8] = static_cast<uint8_t>(cpu >> 8);
  p[9] = static_cast<uint8_t>(cpu);
}

void EndFrame(WireBuffer* buf) {
  const uint32_t len = static_cast<uint32_t>(buf->size() - kLengthSize);
  uint8_t* p = buf->data();
  p[0] = static_cast<uint8_t>(len >> 24);
  p[1] = static_cast<uint8_t>(len >> 16);
  p[2] = static_cast<uint8_t>(len >> 8);
  p[3] = static_cast<uint8_t>(len);
}

Result<uint32_t> ParseLength(std::span<const uint8_t> prefix, uint32_t max_frame) {
  ByteReader in(prefix);
  uint32_t len = 0;
  if (!in.ReadU32(&len)) return InvalidArgumentError("IPC frame: truncated length");
  if (len < kHeaderRest) return InvalidArgumentError("IPC frame: length below the header size");
  if (len > max_frame) return InvalidArgumentError("IPC frame: length over the limit");
  return len;
}

Status DecodeFrame(std::span<const uint8_t> frame, uint8_t type, uint32_t max_frame, FrameHeader* header,
                   std::span<const uint8_t>* body) {
  CV_ASSIGN_OR_RETURN(header->length, ParseLength(frame, max_frame));
  ByteReader in(frame.subspan(kLengthSize));
  if (in.remaining() != header->length) return InvalidArgumentError("IPC frame: length does not match");
  if (!in.ReadU8(&header->version) || !in.ReadU8(&header->type) || !in.ReadU16(&header->op) ||
      !in.ReadU16(&header->cpu)) {
    return InvalidArgumentError("IPC frame: truncated header");
  }
  if (header->version != kWireVersion) return InvalidArgumentError("IPC frame: unsupported version");
  if (header->type != type) return InvalidArgumentError("IPC frame: unexpected message type");
  if (header->op == 0 || header->op >= static_cast<uint16_t>(Op::kOpLimit)) {
    return InvalidArgumentError("IPC frame: unknown op");
  }
  if (!in.ReadBytes(in.remaining(), body)) return InvalidArgumentError("IPC frame: truncated body");
  return OkStatus();
}

}  // namespace certvault::ipc
