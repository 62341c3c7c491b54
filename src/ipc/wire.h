// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The certvaultd wire format (docs/formats/ipc.md): every message is one
// length-prefixed frame
//   u32 length   bytes after this field (kHeaderRest + body), <= the peer's limit
//   u8  version  kWireVersion
//   u8  type     kRequest or kResponse
//   u16 op       Op (a response echoes its request's op)
//   u16 cpu      requests: the CPU the client thread runs on, plus one (0 =
//                unknown), a scheduling hint only; responses: 0, ignored
//   body         the op's fields, big-endian, bounds-checked (codec.h)
// A connection carries one request at a time: the client writes a request
// frame and reads exactly one response frame. Anything else (bad version,
// type, op, length over the limit, trailing bytes) is a protocol error and
// the server closes that connection.
#ifndef CERTVAULT_IPC_WIRE_H_
#define CERTVAULT_IPC_WIRE_H_

#include <openssl/crypto.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "src/base/result.h"

namespace certvault::ipc {

inline constexpr uint8_t kWireVersion = 2;
inline constexpr uint8_t kRequest = 1;
inline constexpr uint8_t kResponse = 2;
inline constexpr size_t kLengthSize = 4;
inline constexpr size_t kHeaderRest = 6;  // version, type, op, cpu
inline constexpr size_t kHeaderSize = kLengthSize + kHeaderRest;
// kDefaultMaxFrame: the default limit of `length` in both directions (the
// daemon's max_frame_bytes setting may lower or raise it, up to kMaxFrameLimit).
inline constexpr uint32_t kDefaultMaxFrame = 1u << 20;
inline constexpr uint32_t kMaxFrameLimit = 64u << 20;

// Op: append only; values are on the wire.
enum class Op : uint16_t {
  kDoNotUse = 0,
  kHello = 1,   // first frame of an application's first connection
  kAttach = 2,  // first frame of its further connections
  kPing = 3,    // no-op round trip
  kGetSlotList = 10,
  kGetSlotInfo = 11,
  kGetTokenInfo = 12,
  kGetMechanismList = 13,
  kGetMechanismInfo = 14,
  kInitToken = 15,
  kInitTokenWithOptions = 16,
  kInitPin = 17,
  kSetPin = 18,
  kOpenSession = 20,
  kCloseSession = 21,
  kCloseAllSessions = 22,
  kGetSessionInfo = 23,
  kLogin = 24,
  kLogout = 25,
  kCreateObject = 30,
  kCopyObject = 31,
  kDestroyObject = 32,
  kGetObjectSize = 33,
  kGetAttributeValue = 34,
  kSetAttributeValue = 35,
  kFindObjectsInit = 36,
  kFindObjects = 37,
  kFindObjectsFinal = 38,
  kReplaceCertificate = 39,  // certvault extension (core/backend.h)
  kEncryptInit = 40,
  kEncrypt = 41,
  kEncryptUpdate = 42,
  kEncryptFinal = 43,
  kDecryptInit = 44,
  kDecrypt = 45,
  kDecryptUpdate = 46,
  kDecryptFinal = 47,
  kDigestInit = 48,
  kDigest = 49,
  kDigestUpdate = 50,
  kDigestKey = 51,
  kDigestFinal = 52,
  kSignInit = 53,
  kSign = 54,
  kSignUpdate = 55,
  kSignFinal = 56,
  kVerifyInit = 57,
  kVerify = 58,
  kVerifyUpdate = 59,
  kVerifyFinal = 60,
  kCancelOperation = 61,
  kGenerateKey = 70,
  kGenerateKeyPair = 71,
  kWrapKey = 72,
  kUnwrapKey = 73,
  kDeriveKey = 74,
  kVaultStatus = 80,
  kSeedRandom = 81,
  kGenerateRandom = 82,
  kSignInitGen = 83,   // SignInit; the response also says whether the client may repeat it (docs/formats/ipc.md)
  kSignInitSign = 84,  // SignInit and Sign in one round trip: a C_SignInit the client answered itself
  kContinued = 85,     // a part of the next request's body, for requests over one frame (docs/formats/ipc.md)
  kDestroyProtectedObjects = 86,  // certvault extension: quorum-protected keys under an approved operation
  kQuorumApprovalTicket = 87,     // certvault extension: a custodian's approval, vault side (src/quorum/quorum.h)
  kQuorumStoreApproval = 88,
  kOpLimit = 89,  // one past the largest op
};

// WipingAllocator: frames carry PINs and key material (wrapped or not), so
// their buffers are cleansed when freed or reallocated. Plain heap: frame
// buffers may be large and the secure heap is kept for keys.
template <typename T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() noexcept = default;
  template <typename U>
  WipingAllocator(const WipingAllocator<U>&) noexcept {}  // NOLINT
  T* allocate(size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, size_t n) noexcept {
    OPENSSL_cleanse(p, n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <typename U>
  bool operator==(const WipingAllocator<U>&) const noexcept {
    return true;
  }
};
using WireBuffer = std::vector<uint8_t, WipingAllocator<uint8_t>>;

struct FrameHeader {
  uint32_t length = 0;  // bytes after the length field
  uint8_t version = 0;
  uint8_t type = 0;
  uint16_t op = 0;
  uint16_t cpu = 0;  // requests: the client's CPU + 1, 0 if unknown
};

// BeginFrame: clears `buf` (keeping its capacity) and writes a header with a
// placeholder length; EndFrame patches the length. REQUIRES: the body fits
// in u32.
void BeginFrame(WireBuffer* buf, uint8_t type, Op op);
void EndFrame(WireBuffer* buf);
// SetFrameCpu: writes the cpu field of a frame BeginFrame started.
void SetFrameCpu(WireBuffer* buf, uint16_t cpu);

// ParseLength: the frame length from the first kLengthSize bytes; kInvalidArgument
// if it is below kHeaderRest or above `max_frame`.
Result<uint32_t> ParseLength(std::span<const uint8_t> prefix, uint32_t max_frame);

// DecodeFrame: one complete frame (length field included, nothing after it)
// of the expected `type`: checks the length, version, type and op range; on
// success `*body` views the body inside `frame`. kInvalidArgument otherwise.
Status DecodeFrame(std::span<const uint8_t> frame, uint8_t type, uint32_t max_frame, FrameHeader* header,
                   std::span<const uint8_t>* body);

}  // namespace certvault::ipc

#endif  // CERTVAULT_IPC_WIRE_H_
