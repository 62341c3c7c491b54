// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/pkcs11/info.h"

#include <algorithm>
#include <cstring>

#include "src/pkcs11/version.h"

namespace certvault::pkcs11 {
namespace {

// Utf8Prefix: the longest prefix of `text` of at most `size` bytes that ends on
// a character boundary (a continuation byte 10xxxxxx never starts a character).
size_t Utf8Prefix(std::string_view text, size_t size) {
  if (text.size() <= size) return text.size();
  size_t cut = size;
  while (cut > 0 && (static_cast<uint8_t>(text[cut]) & 0xC0) == 0x80) --cut;
  return cut;
}

template <size_t N>
void Pad(std::string_view text, CK_UTF8CHAR (&out)[N]) {
  PadField(text, out, N);
}

}  // namespace

void PadField(std::string_view text, CK_UTF8CHAR* out, size_t size) {
  size_t n = Utf8Prefix(text, size);
  std::memset(out, ' ', size);
  std::memcpy(out, text.data(), n);
}

void FillInfo(CK_INFO* out) {
  *out = CK_INFO{};
  out->cryptokiVersion = CK_VERSION{3, 0};
  Pad("certvault", out->manufacturerID);
  out->flags = 0;
  Pad("certvault PKCS#11 module", out->libraryDescription);
  out->libraryVersion = CK_VERSION{kVersionMajor, kVersionMinor};
}

void FillSlotInfo(const SlotInfo& in, CK_SLOT_INFO* out) {
  *out = CK_SLOT_INFO{};
  Pad(in.description, out->slotDescription);
  Pad(in.manufacturer, out->manufacturerID);
  out->flags = in.flags;
  out->hardwareVersion = CK_VERSION{kVersionMajor, kVersionMinor};
  out->firmwareVersion = CK_VERSION{kVersionMajor, kVersionMinor};
}

void FillTokenInfo(const TokenInfo& in, CK_TOKEN_INFO* out) {
  *out = CK_TOKEN_INFO{};
  Pad(in.label, out->label);
  Pad(in.manufacturer, out->manufacturerID);
  Pad(in.model, out->model);
  Pad(in.serial, out->serialNumber);
  out->flags = in.flags;
  out->ulMaxSessionCount = in.max_session_count;
  out->ulSessionCount = in.session_count;
  out->ulMaxRwSessionCount = in.max_rw_session_count;
  out->ulRwSessionCount = in.rw_session_count;
  out->ulMaxPinLen = in.max_pin_len;
  out->ulMinPinLen = in.min_pin_len;
  out->ulTotalPublicMemory = in.total_public_memory;
  out->ulFreePublicMemory = in.free_public_memory;
  out->ulTotalPrivateMemory = in.total_private_memory;
  out->ulFreePrivateMemory = in.free_private_memory;
  out->hardwareVersion = CK_VERSION{in.hardware_version[0], in.hardware_version[1]};
  out->firmwareVersion = CK_VERSION{in.firmware_version[0], in.firmware_version[1]};
  Pad(in.utc_time, out->utcTime);
}

void FillMechanismInfo(const MechanismInfo& in, CK_MECHANISM_INFO* out) {
  out->ulMinKeySize = in.min_key_size;
  out->ulMaxKeySize = in.max_key_size;
  out->flags = in.flags;
}

void FillSessionInfo(const SessionInfo& in, CK_SESSION_INFO* out) {
  out->slotID = in.slot;
  out->state = in.state;
  out->flags = in.flags;
  out->ulDeviceError = in.device_error;
}

}  // namespace certvault::pkcs11
