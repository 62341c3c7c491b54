// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// VerifyManifestSignature: the signature over the install manifest
// (share/certvault/SHA256SUMS.sig, written by cmake/write_manifest.cmake when
// the build sets CV_MANIFEST_SIGNING_KEY; docs/design/selftest.md).
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "src/crypto/libctx.h"
#include "src/crypto/ossl_ptr.h"
#include "src/selftest/internal.h"

namespace certvault::selftest::internal {
namespace {

constexpr std::string_view kTest = "integrity";

ossl::UniquePtr<EVP_PKEY> ReadPublicKey(std::string_view pem) {
  ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return nullptr;
  return ossl::UniquePtr<EVP_PKEY>(
      PEM_read_bio_PUBKEY_ex(bio.get(), nullptr, nullptr, nullptr, crypto::LibCtx(), nullptr));
}

}  // namespace

Status VerifyManifestSignature(std::span<const uint8_t> manifest, std::span<const uint8_t> sig,
                               std::string_view public_key_pem) {
  ossl::UniquePtr<EVP_PKEY> key = ReadPublicKey(public_key_pem);
  if (key == nullptr) return Failed(kTest, "the built-in manifest public key is unreadable");
  // RFC 8032 §5.1: Ed25519 signs the message itself (no pre-hash); ECDSA and
  // RSA (PKCS#1 v1.5, OpenSSL's default) sign its SHA-256, as
  // `openssl dgst -sha256 -sign` does in cmake/write_manifest.cmake.
  const char* md = EVP_PKEY_is_a(key.get(), "ED25519") || EVP_PKEY_is_a(key.get(), "ED448") ? nullptr : "SHA2-256";
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestVerifyInit_ex(ctx.get(), nullptr, md, crypto::LibCtx(), nullptr, key.get(), nullptr) != 1) {
    ERR_clear_error();
    return Failed(kTest, "cannot set up the manifest signature check");
  }
  int ok = EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), manifest.data(), manifest.size());
  ERR_clear_error();  // a bad signature is the expected failure, not an OpenSSL fault
  if (ok != 1) return Failed(kTest, "the install manifest signature does not verify");
  return OkStatus();
}

}  // namespace certvault::selftest::internal
