// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/core/pin_counter.h"

#include <string_view>

#include "src/base/byte_reader.h"
#include "src/base/status_macros.h"
#include "src/core/auth.h"
#include "src/crypto/aead.h"

namespace certvault::core {
namespace {

constexpr uint8_t kAnchorVersion = 1;
constexpr std::string_view kAnchorLabel = "certvault pin counter v1";
constexpr size_t kAnchorTagSize = crypto::kAeadOverhead;  // GMAC: nonce | tag, no ciphertext

struct Anchor {
  uint64_t a0 = 0;
  uint32_t max_tries = 0;
  std::span<const uint8_t> tag;
};

Status Tampered() {
  return Status(Reason::kPinLocked,
                "PIN locked: its retry counter was changed outside certvault; the SO must reset the PIN");
}

Bytes AnchorAad(const storage::AuthRow& row, uint64_t a0, uint32_t max_tries) {
  Bytes aad(kAnchorLabel.begin(), kAnchorLabel.end());
  ByteWriter<Bytes> w(&aad);
  w.WriteU64(row.token_id);
  w.WriteU8(static_cast<uint8_t>(row.role));
  w.WriteU64(a0);
  w.WriteU32(max_tries);
  w.WriteU32LengthPrefixed(row.wrapped_key);
  return aad;
}

// DecodeAnchor: false if the record is malformed.
bool DecodeAnchor(std::span<const uint8_t> record, Anchor* out) {
  ByteReader r(record);
  uint8_t version = 0;
  return r.ReadU8(&version) && version == kAnchorVersion && r.ReadU64(&out->a0) && r.ReadU32(&out->max_tries) &&
         r.ReadBytes(kAnchorTagSize, &out->tag) && r.empty();
}

bool CountedSince(const storage::AuthRow& row, const Anchor& anchor, uint64_t* out_used) {
  if (row.attempts < anchor.a0) return false;
  *out_used = row.attempts - anchor.a0;
  return *out_used <= anchor.max_tries;
}

}  // namespace

Result<Bytes> MakeCounterAnchor(const SecretBytes& token_key, const storage::AuthRow& row, uint64_t a0) {
  CV_ASSIGN_OR_RETURN(SecureVector tag, crypto::AeadSeal(token_key, AnchorAad(row, a0, row.max_tries), {}));
  Bytes out;
  ByteWriter<Bytes> w(&out);
  w.WriteU8(kAnchorVersion);
  w.WriteU64(a0);
  w.WriteU32(row.max_tries);
  w.WriteBytes(tag);  // a tag over public data: not secret
  return out;
}

Status CheckCounterConsistent(const storage::AuthRow& row) {
  CV_ASSIGN_OR_RETURN(bool anchored, HasCountedKdf(row));
  if (!anchored) return OkStatus();
  Anchor anchor;
  uint64_t used = 0;
  if (!DecodeAnchor(row.anchor, &anchor) || anchor.max_tries != row.max_tries || !CountedSince(row, anchor, &used) ||
      row.tries_left != row.max_tries - used) {
    return Tampered();
  }
  return OkStatus();
}

Status CheckCounterAuthentic(const SecretBytes& token_key, const storage::AuthRow& row) {
  CV_ASSIGN_OR_RETURN(bool anchored, HasCountedKdf(row));
  if (!anchored) return OkStatus();
  Anchor anchor;
  uint64_t used = 0;
  if (!DecodeAnchor(row.anchor, &anchor) || !CountedSince(row, anchor, &used)) return Tampered();
  if (!crypto::AeadOpen(token_key, AnchorAad(row, anchor.a0, anchor.max_tries), anchor.tag).ok()) return Tampered();
  return OkStatus();
}

}  // namespace certvault::core
