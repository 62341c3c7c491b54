// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// SecretBytes: PINs, KEKs, token keys, unwrapped and derived keys.
//  - storage is wiped on free (CleansingAllocator);
//  - no implicit copies (Clone() is explicit) and no conversion to std::string;
//  - operator== is constant time;
//  - raw bytes only through SecretAccess::Get(), so every use can be grepped.
#ifndef CERTVAULT_BASE_SECRET_BYTES_H_
#define CERTVAULT_BASE_SECRET_BYTES_H_

#include <openssl/crypto.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "src/base/secure_allocator.h"

namespace certvault {

// SecretAccess: the access token (Tink's InsecureSecretKeyAccess). Audit with
// `grep -rn "SecretAccess::Get()"`.
class SecretAccess {
 public:
  static SecretAccess Get() { return SecretAccess(); }

 private:
  SecretAccess() = default;
};

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t size) : bytes_(size) {}
  SecretBytes(std::span<const uint8_t> data, SecretAccess) : bytes_(data.begin(), data.end()) {}
  SecretBytes(std::string_view data, SecretAccess)
      : bytes_(reinterpret_cast<const uint8_t*>(data.data()),
               reinterpret_cast<const uint8_t*>(data.data()) + data.size()) {}
  // Adopts a SecureVector (already wiping).
  explicit SecretBytes(SecureVector&& v) : bytes_(std::move(v)) {}

  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&&) noexcept = default;
  SecretBytes& operator=(SecretBytes&&) noexcept = default;

  SecretBytes Clone() const {
    SecretBytes out;
    out.bytes_ = bytes_;
    return out;
  }

  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }

  std::span<const uint8_t> Bytes(SecretAccess) const { return bytes_; }
  std::span<uint8_t> MutableBytes(SecretAccess) { return bytes_; }
  std::string_view AsStringView(SecretAccess) const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }

  // Resize keeps the prefix; any reallocation wipes the old buffer.
  void Resize(size_t size) { bytes_.resize(size); }

  // Constant time in the length of the shorter input; sizes are not secret.
  bool operator==(const SecretBytes& other) const {
    return bytes_.size() == other.bytes_.size() &&
           CRYPTO_memcmp(bytes_.data(), other.bytes_.data(), bytes_.size()) == 0;
  }

 private:
  SecureVector bytes_;
};

}  // namespace certvault

#endif  // CERTVAULT_BASE_SECRET_BYTES_H_
