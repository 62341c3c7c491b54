// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/crypto/mac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::crypto {
namespace {

// Fetched once; EVP_MAC / EVP_KDF objects are immutable and shareable.
EVP_MAC* Hmac() {
  static EVP_MAC* const mac = EVP_MAC_fetch(LibCtx(), "HMAC", nullptr);
  return mac;
}

EVP_KDF* Hkdf() {
  static EVP_KDF* const kdf = EVP_KDF_fetch(LibCtx(), "HKDF", nullptr);
  return kdf;
}

char kSha256[] = "SHA256";

}  // namespace

Result<HmacKey> HmacKey::Create(const SecretBytes& key) {
  if (key.empty()) return Status(Reason::kArgumentsBad, "HMAC key must not be empty");
  if (Hmac() == nullptr) return ossl::OpenSslError("EVP_MAC_fetch(HMAC)");
  ossl::UniquePtr<EVP_MAC_CTX> ctx(EVP_MAC_CTX_new(Hmac()));
  if (ctx == nullptr) return ossl::OpenSslError("EVP_MAC_CTX_new");
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, kSha256, 0), OSSL_PARAM_END};
  std::span<const uint8_t> k = key.Bytes(SecretAccess::Get());
  if (EVP_MAC_init(ctx.get(), k.data(), k.size(), params) != 1) return ossl::OpenSslError("EVP_MAC_init");
  return HmacKey(std::move(ctx));
}

Result<MacTag> HmacKey::Compute(std::initializer_list<std::span<const uint8_t>> parts) const {
  // A copy of the keyed context: the key schedule is not redone.
  ossl::UniquePtr<EVP_MAC_CTX> ctx(EVP_MAC_CTX_dup(keyed_.get()));
  if (ctx == nullptr) return ossl::OpenSslError("EVP_MAC_CTX_dup");
  for (std::span<const uint8_t> part : parts) {
    if (!part.empty() && EVP_MAC_update(ctx.get(), part.data(), part.size()) != 1) {
      return ossl::OpenSslError("EVP_MAC_update");
    }
  }
  MacTag tag{};
  size_t len = 0;
  if (EVP_MAC_final(ctx.get(), tag.data(), &len, tag.size()) != 1 || len != tag.size()) {
    return ossl::OpenSslError("EVP_MAC_final");
  }
  return tag;
}

Result<MacTag> HmacSha256(const SecretBytes& key, std::initializer_list<std::span<const uint8_t>> parts) {
  CV_ASSIGN_OR_RETURN(HmacKey keyed, HmacKey::Create(key));
  return keyed.Compute(parts);
}

Result<SecretBytes> HkdfSha256(const SecretBytes& ikm, std::string_view info, size_t out_len) {
  if (ikm.empty() || out_len == 0 || out_len > 255 * kMacSize) {
    return Status(Reason::kArgumentsBad, "bad HKDF input or output length");
  }
  if (Hkdf() == nullptr) return ossl::OpenSslError("EVP_KDF_fetch(HKDF)");
  ossl::UniquePtr<EVP_KDF_CTX> ctx(EVP_KDF_CTX_new(Hkdf()));
  if (ctx == nullptr) return ossl::OpenSslError("EVP_KDF_CTX_new");
  std::span<const uint8_t> k = ikm.Bytes(SecretAccess::Get());
  // OSSL_PARAM takes non-const pointers; OpenSSL only reads these buffers.
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, kSha256, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(k.data()), k.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size()),
      OSSL_PARAM_END};
  SecretBytes out(out_len);
  if (EVP_KDF_derive(ctx.get(), out.MutableBytes(SecretAccess::Get()).data(), out_len, params) != 1) {
    return ossl::OpenSslError("EVP_KDF_derive(HKDF)");
  }
  return out;
}

bool MacEqual(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace certvault::crypto
