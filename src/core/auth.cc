// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/core/auth.h"

#include <algorithm>
#include <iterator>

#include "src/base/byte_reader.h"
#include "src/base/status_macros.h"
#include "src/core/pin_counter.h"
#include "src/crypto/aead.h"
#include "src/crypto/random.h"

namespace certvault::core {
namespace {

constexpr uint8_t kKdfMagic[4] = {'A', '2', 'I', 'D'};
constexpr std::string_view kAadLabelV1 = "certvault token key v1";
constexpr std::string_view kAadLabelV2 = "certvault token key v2";

Bytes TokenKeyAad(uint8_t version, storage::TokenId token, storage::Role role) {
  std::string_view label = version == kKdfVersionLegacy ? kAadLabelV1 : kAadLabelV2;
  Bytes aad(label.begin(), label.end());
  ByteWriter<Bytes> w(&aad);
  w.WriteU64(token);
  w.WriteU8(static_cast<uint8_t>(role));
  return aad;
}

Status Corrupt(std::string_view what) { return Status(Reason::kCorruptStore, what); }

}  // namespace

Bytes EncodeKdf(const PinKdf& kdf) {
  Bytes out(std::begin(kKdfMagic), std::end(kKdfMagic));
  ByteWriter<Bytes> w(&out);
  w.WriteU8(kdf.version);
  w.WriteU32(kdf.params.t_cost);
  w.WriteU32(kdf.params.m_cost_kib);
  w.WriteU32(kdf.params.parallelism);
  w.WriteU8(static_cast<uint8_t>(kdf.salt.size()));
  w.WriteBytes(kdf.salt);
  return out;
}

Result<PinKdf> DecodeKdf(std::span<const uint8_t> record) {
  ByteReader r(record);
  std::span<const uint8_t> magic, salt;
  uint8_t version = 0, salt_len = 0;
  PinKdf kdf;
  if (!r.ReadBytes(4, &magic) || !std::equal(magic.begin(), magic.end(), std::begin(kKdfMagic)) || !r.ReadU8(&version) ||
      !r.ReadU32(&kdf.params.t_cost) || !r.ReadU32(&kdf.params.m_cost_kib) ||
      !r.ReadU32(&kdf.params.parallelism) || !r.ReadU8(&salt_len) || !r.ReadBytes(salt_len, &salt) || !r.empty()) {
    return Corrupt("malformed PIN KDF record");
  }
  if (version != kKdfVersionLegacy && version != kKdfVersionCounted) {
    return Corrupt("unsupported PIN KDF record version");
  }
  kdf.version = version;
  if (salt.size() < crypto::kArgon2MinSaltSize || !crypto::ValidateArgon2Params(kdf.params).ok()) {
    return Corrupt("PIN KDF parameters out of bounds");
  }
  kdf.salt.assign(salt.begin(), salt.end());
  return kdf;
}

Result<bool> HasCountedKdf(const storage::AuthRow& row) {
  CV_ASSIGN_OR_RETURN(PinKdf kdf, DecodeKdf(row.kdf));
  return kdf.version == kKdfVersionCounted;
}

Result<SecretBytes> NewTokenKey() { return crypto::NewRandomSecret(kTokenKeySize); }

Result<storage::AuthRow> SealTokenKey(storage::TokenId token, storage::Role role, const SecretBytes& pin,
                                      const SecretBytes& token_key, const KdfConfig& kdf_config,
                                      uint32_t max_tries) {
  PinKdf kdf;
  kdf.params = {kdf_config.iterations, kdf_config.memory_kib, kdf_config.parallelism};
  kdf.salt.resize(kPinSaltSize);
  CV_RETURN_IF_ERROR(crypto::RandomBytes(kdf.salt));
  CV_ASSIGN_OR_RETURN(SecretBytes kek, crypto::DeriveArgon2id(pin, kdf.salt, kdf.params, kTokenKeySize));
  CV_ASSIGN_OR_RETURN(SecureVector sealed,
                      crypto::AeadSeal(kek, TokenKeyAad(kdf.version, token, role), token_key.Bytes(SecretAccess::Get())));
  storage::AuthRow row;
  row.token_id = token;
  row.role = role;
  row.kdf = EncodeKdf(kdf);
  row.wrapped_key.assign(sealed.begin(), sealed.end());  // ciphertext: not secret
  row.tries_left = max_tries;
  row.max_tries = max_tries;
  row.attempts = 0;
  CV_ASSIGN_OR_RETURN(row.anchor, MakeCounterAnchor(token_key, row, 0));
  return row;
}

Result<SecretBytes> OpenTokenKey(const storage::AuthRow& row, const SecretBytes& pin) {
  CV_ASSIGN_OR_RETURN(PinKdf kdf, DecodeKdf(row.kdf));
  CV_ASSIGN_OR_RETURN(SecretBytes kek, crypto::DeriveArgon2id(pin, kdf.salt, kdf.params, kTokenKeySize));
  Result<SecureVector> key = crypto::AeadOpen(kek, TokenKeyAad(kdf.version, row.token_id, row.role), row.wrapped_key);
  if (!key.ok()) return Status(Reason::kPinIncorrect, "incorrect PIN");
  if (key->size() != kTokenKeySize) return Corrupt("token key has the wrong size");
  return SecretBytes(std::move(*key));
}

}  // namespace certvault::core
