// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/audit/event_chain.h"

#include <openssl/evp.h>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"

namespace certvault::audit {
namespace {

void PutU64(Bytes* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void PutU32(Bytes* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// PutField: u32 length | bytes, so that no two field lists encode alike.
void PutField(Bytes* out, std::span<const uint8_t> v) {
  PutU32(out, static_cast<uint32_t>(v.size()));
  out->insert(out->end(), v.begin(), v.end());
}

void PutText(Bytes* out, std::string_view v) {
  PutField(out, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size()));
}

}  // namespace

Result<Bytes> Sha256(std::span<const uint8_t> data) {
  Bytes out(kHashSize);
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, crypto::DigestByName("SHA256"), nullptr) != 1 ||
      len != kHashSize) {
    return ossl::OpenSslError("EVP_Digest(SHA256)");
  }
  return out;
}

Result<Bytes> GenesisHash(storage::TokenId token) {
  Bytes msg = ToBytes("certvault event genesis v1");
  PutU64(&msg, token);
  return Sha256(msg);
}

Result<Bytes> EventHash(const storage::EventRow& row) {
  Bytes msg = ToBytes("certvault event v1");
  PutU64(&msg, row.token_id);
  PutU64(&msg, row.seq);
  PutU64(&msg, static_cast<uint64_t>(row.time_ms));
  PutText(&msg, row.role);
  PutText(&msg, row.mode);
  PutU64(&msg, static_cast<uint64_t>(row.peer_uid));
  PutU64(&msg, static_cast<uint64_t>(row.peer_pid));
  PutText(&msg, row.peer_exe);
  PutText(&msg, row.action);
  PutU64(&msg, row.target_id);
  PutText(&msg, row.target_label);
  PutText(&msg, row.result);
  PutText(&msg, row.detail);
  PutField(&msg, row.prev_hash);
  return Sha256(msg);
}

Bytes CheckpointMessage(const storage::CheckpointRow& cp) {
  Bytes msg = ToBytes("certvault event checkpoint v1");
  PutU64(&msg, cp.token_id);
  PutU64(&msg, cp.seq);
  PutU64(&msg, static_cast<uint64_t>(cp.time_ms));
  PutU32(&msg, cp.key_no);
  PutField(&msg, cp.head);
  return msg;
}

Result<std::string> KeyFingerprint(std::span<const uint8_t> spki) {
  CV_ASSIGN_OR_RETURN(Bytes digest, Sha256(spki));
  return HexEncode(digest);
}

}  // namespace certvault::audit
