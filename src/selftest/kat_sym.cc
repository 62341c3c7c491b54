// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Known-answer tests of the symmetric primitives and the DRBG health check.
// Every OpenSSL call goes through certvault's own library context.
#include <argon2.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <string>

#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/crypto/ossl_ptr.h"
#include "src/selftest/internal.h"

namespace certvault::selftest::internal {
namespace {

std::vector<uint8_t> Bytes(std::string_view s) { return std::vector<uint8_t>(s.begin(), s.end()); }

Status Digest(std::string_view test, const char* md_name, std::string_view want_hex) {
  ossl::UniquePtr<EVP_MD> md(EVP_MD_fetch(crypto::LibCtx(), md_name, nullptr));
  if (md == nullptr) return Failed(test, "EVP_MD_fetch");
  // FIPS 180-4 example "abc" (one-block message).
  std::vector<uint8_t> msg = Bytes("abc");
  MaybeCorrupt(test, msg);
  uint8_t out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(msg.data(), msg.size(), out, &len, md.get(), nullptr) != 1) return Failed(test, "EVP_Digest");
  return Equal(test, {out, len}, Hex(want_hex));
}

}  // namespace

Status KatSha256() {
  return Digest("sha256", "SHA2-256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Status KatSha384() {
  return Digest("sha384", "SHA2-384",
                "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
                "8086072ba1e7cc2358baeca134c825a7");
}

// RFC 4231 §4.3, test case 2 (a key shorter than the block).
Status KatHmacSha256() {
  constexpr std::string_view kTest = "hmac-sha256";
  std::vector<uint8_t> key = Bytes("Jefe");
  std::vector<uint8_t> data = Bytes("what do ya want for nothing?");
  MaybeCorrupt(kTest, data);
  ossl::UniquePtr<EVP_MAC> mac(EVP_MAC_fetch(crypto::LibCtx(), "HMAC", nullptr));
  if (mac == nullptr) return Failed(kTest, "EVP_MAC_fetch");
  ossl::UniquePtr<EVP_MAC_CTX> ctx(EVP_MAC_CTX_new(mac.get()));
  char digest[] = "SHA2-256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_END};
  uint8_t out[32];
  size_t len = 0;
  if (ctx == nullptr || EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out, &len, sizeof(out)) != 1) {
    ossl::ClearErrors();
    return Failed(kTest, "EVP_MAC");
  }
  return Equal(kTest, {out, len}, Hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
}

namespace {

// The GCM specification's (McGrew and Viega, NIST) test case 4: AES-128, a
// 96-bit IV, 20 bytes of AAD, 60 bytes of plaintext.
constexpr std::string_view kGcmKey = "feffe9928665731c6d6a8f9467308308";
constexpr std::string_view kGcmIv = "cafebabefacedbaddecaf888";
constexpr std::string_view kGcmAad = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
constexpr std::string_view kGcmPlain =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525"
    "b16aedf5aa0de657ba637b39";
constexpr std::string_view kGcmCipher =
    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa05"
    "1ba30b396a0aac973d58e091";
constexpr std::string_view kGcmTag = "5bc94fbc3221a5db94fae95ae7121a47";

// GcmRun: one encryption (encrypt = true) or decryption with tag check.
Status GcmRun(bool encrypt, std::span<const uint8_t> in, std::span<uint8_t> tag, std::vector<uint8_t>* out) {
  constexpr std::string_view kTest = "aes-gcm";
  ossl::UniquePtr<EVP_CIPHER> cipher(EVP_CIPHER_fetch(crypto::LibCtx(), "AES-128-GCM", nullptr));
  ossl::UniquePtr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  std::vector<uint8_t> key = Hex(kGcmKey), iv = Hex(kGcmIv), aad = Hex(kGcmAad);
  out->assign(in.size(), 0);
  int len = 0, fin = 0;
  bool ok = cipher != nullptr && ctx != nullptr &&
            EVP_CipherInit_ex2(ctx.get(), cipher.get(), key.data(), iv.data(), encrypt ? 1 : 0, nullptr) == 1 &&
            EVP_CipherUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1 &&
            EVP_CipherUpdate(ctx.get(), out->data(), &len, in.data(), static_cast<int>(in.size())) == 1;
  if (ok && !encrypt) {
    ok = EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag.size()), tag.data()) == 1;
  }
  ok = ok && EVP_CipherFinal_ex(ctx.get(), out->data() + len, &fin) == 1;
  if (ok && encrypt) {
    ok = EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag.size()), tag.data()) == 1;
  }
  if (!ok) {
    ossl::ClearErrors();
    return Failed(kTest, encrypt ? "encryption failed" : "decryption failed");
  }
  return OkStatus();
}

}  // namespace

// Encrypts to the published ciphertext and tag, then decrypts it back
// (which also checks the tag).
Status KatAesGcm() {
  constexpr std::string_view kTest = "aes-gcm";
  std::vector<uint8_t> plain = Hex(kGcmPlain);
  MaybeCorrupt(kTest, plain);
  std::vector<uint8_t> cipher, back;
  uint8_t tag[16] = {};
  Status s = GcmRun(true, plain, tag, &cipher);
  if (!s.ok()) return s;
  std::vector<uint8_t> want = Hex(kGcmCipher);
  if (Status eq = Equal(kTest, cipher, want); !eq.ok()) return eq;
  if (Status eq = Equal(kTest, tag, Hex(kGcmTag)); !eq.ok()) return eq;
  s = GcmRun(false, want, tag, &back);
  if (!s.ok()) return s;
  return Equal(kTest, back, plain);
}

// RFC 9106 §5.3, the Argon2id test vector (t = 3, m = 32 KiB, p = 4, with
// secret and associated data). libargon2 is called directly because
// crypto::DeriveArgon2id takes neither a secret nor associated data; both use
// the same argon2_ctx() underneath.
Status KatArgon2id() {
  constexpr std::string_view kTest = "argon2id";
  std::vector<uint8_t> pwd(32, 0x01), salt(16, 0x02), secret(8, 0x03), ad(12, 0x04), out(32, 0);
  MaybeCorrupt(kTest, pwd);
  argon2_context ctx = {};
  ctx.out = out.data();
  ctx.outlen = static_cast<uint32_t>(out.size());
  ctx.pwd = pwd.data();
  ctx.pwdlen = static_cast<uint32_t>(pwd.size());
  ctx.salt = salt.data();
  ctx.saltlen = static_cast<uint32_t>(salt.size());
  ctx.secret = secret.data();
  ctx.secretlen = static_cast<uint32_t>(secret.size());
  ctx.ad = ad.data();
  ctx.adlen = static_cast<uint32_t>(ad.size());
  ctx.t_cost = 3;
  ctx.m_cost = 32;
  ctx.lanes = 4;
  ctx.threads = 1;  // the result does not depend on it; no threads at load
  ctx.version = ARGON2_VERSION_13;
  if (argon2_ctx(&ctx, Argon2_id) != ARGON2_OK) return Failed(kTest, "argon2_ctx");
  return Equal(kTest, out, Hex("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"));
}

// DrbgHealth: both DRBGs answer, and two successive outputs of each differ
// and are not all zero (a stuck or unseeded generator).
Status DrbgHealth() {
  constexpr std::string_view kTest = "drbg";
  for (bool priv : {false, true}) {
    std::vector<uint8_t> a(32), b(32);
    auto draw = [&](std::vector<uint8_t>& v) {
      return priv ? RAND_priv_bytes_ex(crypto::LibCtx(), v.data(), v.size(), 0)
                  : RAND_bytes_ex(crypto::LibCtx(), v.data(), v.size(), 0);
    };
    if (draw(a) != 1 || draw(b) != 1) {
      ossl::ClearErrors();
      return Failed(kTest, "RAND_bytes_ex");
    }
    if (FaultInjected(kTest)) b = a;
    bool zero = std::all_of(a.begin(), a.end(), [](uint8_t x) { return x == 0; });
    if (a == b || zero) return Failed(kTest, "repeated or all-zero output");
  }
  return OkStatus();
}

}  // namespace certvault::selftest::internal
