// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/quorum/x25519_seal.h"

#include <openssl/evp.h>

#include <string>

#include "src/base/status_macros.h"
#include "src/crypto/aead.h"
#include "src/crypto/libctx.h"
#include "src/crypto/mac.h"
#include "src/crypto/ossl_error.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::quorum {
namespace {

Result<ossl::UniquePtr<EVP_PKEY>> PrivateKey(const SecretBytes& raw) {
  if (raw.size() != kX25519Size) return Status(Reason::kArgumentsBad, "an X25519 private key has 32 bytes");
  ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_new_raw_private_key_ex(crypto::LibCtx(), "X25519", nullptr,
                                                                raw.Bytes(SecretAccess::Get()).data(), raw.size()));
  if (key == nullptr) return ossl::OpenSslError("EVP_PKEY_new_raw_private_key_ex");
  return key;
}

Result<Bytes> PublicOf(EVP_PKEY* key) {
  Bytes pub(kX25519Size);
  size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(key, pub.data(), &len) != 1 || len != kX25519Size) {
    return ossl::OpenSslError("EVP_PKEY_get_raw_public_key");
  }
  return pub;
}

// SealingKey: HKDF(X25519(priv, peer), label | eph_pub | recipient_pub).
Result<SecretBytes> SealingKey(EVP_PKEY* priv, std::span<const uint8_t> peer, std::string_view label,
                               std::span<const uint8_t> eph_pub, std::span<const uint8_t> recipient) {
  if (peer.size() != kX25519Size) return Status(Reason::kArgumentsBad, "an X25519 public key has 32 bytes");
  ossl::UniquePtr<EVP_PKEY> peer_key(
      EVP_PKEY_new_raw_public_key_ex(crypto::LibCtx(), "X25519", nullptr, peer.data(), peer.size()));
  if (peer_key == nullptr) return ossl::OpenSslError("EVP_PKEY_new_raw_public_key_ex");
  ossl::UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(crypto::LibCtx(), priv, nullptr));
  SecretBytes shared(kX25519Size);
  size_t len = shared.size();
  if (ctx == nullptr || EVP_PKEY_derive_init(ctx.get()) <= 0 || EVP_PKEY_derive_set_peer(ctx.get(), peer_key.get()) <= 0 ||
      EVP_PKEY_derive(ctx.get(), shared.MutableBytes(SecretAccess::Get()).data(), &len) <= 0 || len != kX25519Size) {
    return ossl::OpenSslError("EVP_PKEY_derive");
  }
  std::string info(label);
  info.append(eph_pub.begin(), eph_pub.end());
  info.append(recipient.begin(), recipient.end());
  return crypto::HkdfSha256(shared, info, crypto::kAeadKeySize);
}

}  // namespace

Result<X25519KeyPair> NewX25519KeyPair() {
  ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(crypto::LibCtx(), nullptr, "X25519"));
  if (key == nullptr) return ossl::OpenSslError("EVP_PKEY_Q_keygen");
  X25519KeyPair out;
  CV_ASSIGN_OR_RETURN(out.public_key, PublicOf(key.get()));
  out.private_key = SecretBytes(kX25519Size);
  size_t len = kX25519Size;
  if (EVP_PKEY_get_raw_private_key(key.get(), out.private_key.MutableBytes(SecretAccess::Get()).data(), &len) != 1) {
    return ossl::OpenSslError("EVP_PKEY_get_raw_private_key");
  }
  return out;
}

Result<Bytes> SealToKey(std::span<const uint8_t> recipient, std::string_view label, std::span<const uint8_t> aad,
                        std::span<const uint8_t> plaintext) {
  CV_ASSIGN_OR_RETURN(X25519KeyPair eph, NewX25519KeyPair());
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<EVP_PKEY> priv, PrivateKey(eph.private_key));
  CV_ASSIGN_OR_RETURN(SecretBytes key, SealingKey(priv.get(), recipient, label, eph.public_key, recipient));
  CV_ASSIGN_OR_RETURN(SecureVector sealed, crypto::AeadSeal(key, aad, plaintext));
  Bytes out = eph.public_key;
  out.insert(out.end(), sealed.begin(), sealed.end());
  return out;
}

Result<SecretBytes> OpenWithKey(const SecretBytes& private_key, std::string_view label, std::span<const uint8_t> aad,
                                std::span<const uint8_t> sealed) {
  if (sealed.size() < kX25519Size + crypto::kAeadOverhead) {
    return Status(Reason::kEncryptedDataInvalid, "sealed data too short");
  }
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<EVP_PKEY> priv, PrivateKey(private_key));
  CV_ASSIGN_OR_RETURN(Bytes own_pub, PublicOf(priv.get()));
  std::span<const uint8_t> eph_pub = sealed.first(kX25519Size);
  CV_ASSIGN_OR_RETURN(SecretBytes key, SealingKey(priv.get(), eph_pub, label, eph_pub, own_pub));
  CV_ASSIGN_OR_RETURN(SecureVector plain, crypto::AeadOpen(key, aad, sealed.subspan(kX25519Size)));
  return SecretBytes(std::move(plain));
}

}  // namespace certvault::quorum
