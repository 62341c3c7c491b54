// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "bench/raw_openssl.h"

#include "src/crypto/ossl_error.h"

namespace certvault::bench {

Result<RawSigner> RawSigner::Create(KeyKind kind) {
  EVP_PKEY* raw = nullptr;
  switch (kind) {
    case KeyKind::kEcP256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyKind::kEd25519:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
    case KeyKind::kRsa2048:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
      break;
    default:
      return InvalidArgumentError("unknown key kind");
  }
  ossl::UniquePtr<EVP_PKEY> key(raw);
  if (key == nullptr) return ossl::OpenSslError("EVP_PKEY_Q_keygen");
  return RawSigner(kind, std::move(key));
}

Status RawSigner::SignOnce(std::span<const uint8_t> msg, std::vector<uint8_t>& out) const {
  if (kind_ == KeyKind::kEcP256) return SignDigestOnce(msg, out);
  return DigestSignOnce(msg, out);
}

Status RawSigner::SignDigestOnce(std::span<const uint8_t> msg, std::vector<uint8_t>& out) const {
  ossl::UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
  if (ctx == nullptr || EVP_PKEY_sign_init(ctx.get()) <= 0) {
    return ossl::OpenSslError("EVP_PKEY_sign_init");
  }
  size_t len = 0;
  if (EVP_PKEY_sign(ctx.get(), nullptr, &len, msg.data(), msg.size()) <= 0) {
    return ossl::OpenSslError("EVP_PKEY_sign");
  }
  out.resize(len);
  if (EVP_PKEY_sign(ctx.get(), out.data(), &len, msg.data(), msg.size()) <= 0) {
    return ossl::OpenSslError("EVP_PKEY_sign");
  }
  out.resize(len);
  return OkStatus();
}

Status RawSigner::DigestSignOnce(std::span<const uint8_t> msg, std::vector<uint8_t>& out) const {
  // Ed25519 is "pure": no digest name; RSA uses SHA-256 with PKCS#1 v1.5 padding (the default).
  const char* md = kind_ == KeyKind::kRsa2048 ? "SHA256" : nullptr;
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestSignInit_ex(ctx.get(), nullptr, md, nullptr, nullptr, key_.get(), nullptr) <= 0) {
    return ossl::OpenSslError("EVP_DigestSignInit_ex");
  }
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, msg.data(), msg.size()) <= 0) {
    return ossl::OpenSslError("EVP_DigestSign");
  }
  out.resize(len);
  if (EVP_DigestSign(ctx.get(), out.data(), &len, msg.data(), msg.size()) <= 0) {
    return ossl::OpenSslError("EVP_DigestSign");
  }
  out.resize(len);
  return OkStatus();
}

}  // namespace certvault::bench
