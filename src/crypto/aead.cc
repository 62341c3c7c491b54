// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/crypto/aead.h"

#include <openssl/evp.h>

#include <climits>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/crypto/ossl_ptr.h"
#include "src/crypto/random.h"

namespace certvault::crypto {
namespace {

// Aes256Gcm: fetched once; EVP_CIPHER objects are immutable and shareable.
const EVP_CIPHER* Aes256Gcm() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(LibCtx(), "AES-256-GCM", nullptr);
  return cipher;
}

Status CheckKey(const SecretBytes& key) {
  if (key.size() != kAeadKeySize) return Status(Reason::kArgumentsBad, "AEAD key must be 32 bytes");
  if (Aes256Gcm() == nullptr) return ossl::OpenSslError("EVP_CIPHER_fetch(AES-256-GCM)");
  return OkStatus();
}

// Begin: a context initialized for `enc` with key, nonce and AAD absorbed.
Result<ossl::UniquePtr<EVP_CIPHER_CTX>> Begin(bool enc, const SecretBytes& key, std::span<const uint8_t> nonce,
                                              std::span<const uint8_t> aad) {
  ossl::UniquePtr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return ossl::OpenSslError("EVP_CIPHER_CTX_new");
  if (EVP_CipherInit_ex2(ctx.get(), Aes256Gcm(), key.Bytes(SecretAccess::Get()).data(), nonce.data(), enc ? 1 : 0,
                         nullptr) != 1) {
    return ossl::OpenSslError("EVP_CipherInit_ex2");
  }
  int len = 0;
  if (!aad.empty() && EVP_CipherUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
    return ossl::OpenSslError("EVP_CipherUpdate(aad)");
  }
  return ctx;
}

}  // namespace

Result<SecureVector> AeadSeal(const SecretBytes& key, std::span<const uint8_t> aad,
                              std::span<const uint8_t> plaintext) {
  CV_RETURN_IF_ERROR(CheckKey(key));
  if (plaintext.size() > INT_MAX - kAeadOverhead || aad.size() > INT_MAX) {
    return Status(Reason::kDataLenRange, "AEAD input too long");
  }
  SecureVector out(kAeadNonceSize + plaintext.size() + kAeadTagSize);
  std::span<uint8_t> nonce(out.data(), kAeadNonceSize);
  CV_RETURN_IF_ERROR(RandomBytes(nonce));
  CV_ASSIGN_OR_RETURN(auto ctx, Begin(true, key, nonce, aad));
  int len = 0;
  uint8_t* ct = out.data() + kAeadNonceSize;
  if (!plaintext.empty() &&
      EVP_EncryptUpdate(ctx.get(), ct, &len, plaintext.data(), static_cast<int>(plaintext.size())) != 1) {
    return ossl::OpenSslError("EVP_EncryptUpdate");
  }
  int final_len = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), ct + len, &final_len) != 1) return ossl::OpenSslError("EVP_EncryptFinal_ex");
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kAeadTagSize, ct + plaintext.size()) != 1) {
    return ossl::OpenSslError("EVP_CTRL_AEAD_GET_TAG");
  }
  return out;
}

Result<SecureVector> AeadOpen(const SecretBytes& key, std::span<const uint8_t> aad,
                              std::span<const uint8_t> sealed) {
  CV_RETURN_IF_ERROR(CheckKey(key));
  if (sealed.size() < kAeadOverhead || sealed.size() > INT_MAX || aad.size() > INT_MAX) {
    return Status(Reason::kEncryptedDataInvalid, "sealed data has an invalid length");
  }
  const size_t ct_len = sealed.size() - kAeadOverhead;
  std::span<const uint8_t> nonce = sealed.first(kAeadNonceSize);
  std::span<const uint8_t> ct = sealed.subspan(kAeadNonceSize, ct_len);
  std::span<const uint8_t> tag = sealed.last(kAeadTagSize);
  CV_ASSIGN_OR_RETURN(auto ctx, Begin(false, key, nonce, aad));
  SecureVector out(ct_len);
  int len = 0;
  if (ct_len != 0 && EVP_DecryptUpdate(ctx.get(), out.data(), &len, ct.data(), static_cast<int>(ct_len)) != 1) {
    return ossl::OpenSslError("EVP_DecryptUpdate");
  }
  // The tag buffer is not modified by SET_TAG; OpenSSL's prototype is non-const.
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kAeadTagSize, const_cast<uint8_t*>(tag.data())) != 1) {
    return ossl::OpenSslError("EVP_CTRL_AEAD_SET_TAG");
  }
  int final_len = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &final_len) != 1) {
    ossl::ClearErrors();
    return Status(Reason::kEncryptedDataInvalid, "AEAD authentication failed");
  }
  return out;
}

}  // namespace certvault::crypto
