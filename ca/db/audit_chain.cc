// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/db/audit_chain.h"

#include <openssl/evp.h>

#include <string_view>

#include "src/crypto/libctx.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::ca {
namespace {

void PutU64(Bytes& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void PutStr(Bytes& out, std::string_view s) {
  uint32_t n = static_cast<uint32_t>(s.size());
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<uint8_t>(n >> (8 * i)));
  out.insert(out.end(), s.begin(), s.end());
}

Bytes Sha256(std::span<const uint8_t> data) {
  Bytes out(kAuditHashSize);
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, crypto::DigestByName("SHA256"), nullptr) != 1 ||
      len != kAuditHashSize) {
    return {};
  }
  return out;
}

}  // namespace

const Bytes& AuditGenesis() {
  static const Bytes kGenesis = [] {
    std::string_view tag = "certvault-ca audit genesis v1";
    return Sha256(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(tag.data()), tag.size()));
  }();
  return kGenesis;
}

Bytes AuditRecordHash(const AuditEvent& e) {
  Bytes buf;
  buf.reserve(160 + e.actor.size() + e.object.size() + e.detail.size());
  PutStr(buf, "certvault-ca audit v1");
  PutU64(buf, static_cast<uint64_t>(e.seq));
  PutU64(buf, static_cast<uint64_t>(e.at));
  for (const std::string* s : {&e.actor, &e.role, &e.source, &e.request_id, &e.action, &e.ca, &e.object, &e.result,
                               &e.detail}) {
    PutStr(buf, *s);
  }
  PutStr(buf, std::string_view(reinterpret_cast<const char*>(e.prev_hash.data()), e.prev_hash.size()));
  return Sha256(buf);
}

Bytes AuditCheckpointMessage(const std::string& db, const AuditCheckpoint& cp) {
  Bytes buf;
  PutStr(buf, "certvault-ca audit checkpoint v1");
  PutStr(buf, db);
  PutU64(buf, static_cast<uint64_t>(cp.seq));
  PutU64(buf, static_cast<uint64_t>(cp.at));
  PutStr(buf, std::string_view(reinterpret_cast<const char*>(cp.hash.data()), cp.hash.size()));
  return buf;
}

std::string RevocationDetail(int reason, int64_t invalidity_date) {
  return "reason=" + std::to_string(reason) + " invalidity=" + std::to_string(invalidity_date);
}

std::string ToHex(std::span<const uint8_t> bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

Bytes FromHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return {};
  Bytes out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return {};
    out.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return out;
}

}  // namespace certvault::ca
