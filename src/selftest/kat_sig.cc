// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Known-answer tests of the signature algorithms: ECDSA P-256 and P-384
// (verify of a published signature, then a sign/verify round trip with the
// same fixed key), Ed25519 (deterministic: sign must equal the published
// signature) and RSA-PSS (verify of a committed signature, then a round trip).
#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <string>

#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/crypto/ossl_ptr.h"
#include "src/selftest/internal.h"
#include "src/selftest/rsa_vector.h"
#include "src/selftest/sig_util.h"

namespace certvault::selftest::internal {
namespace {

using PkeyPtr = ossl::UniquePtr<EVP_PKEY>;

// EcVector: RFC 6979 appendix A.2.5 (P-256) / A.2.6 (P-384): the key pair and
// the signature of "sample" with the curve's matching SHA-2.
struct EcVector {
  std::string_view test;
  const char* group;
  const char* md;
  std::string_view x, ux, uy, r, s;
};

Result<PkeyPtr> EcKey(const EcVector& v) {
  std::vector<uint8_t> pub = Hex(std::string("04").append(v.ux).append(v.uy));
  std::vector<uint8_t> priv = Hex(v.x);
  ossl::UniquePtr<BIGNUM> d(BN_bin2bn(priv.data(), static_cast<int>(priv.size()), nullptr));
  ossl::UniquePtr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (d == nullptr || bld == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, v.group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1) {
    return Failed(v.test, "key parameters");
  }
  ossl::SecretParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  ossl::UniquePtr<EVP_PKEY_CTX> ctx(crypto::NewPkeyCtx("EC"));
  EVP_PKEY* raw = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    ossl::ClearErrors();
    return Failed(v.test, "EVP_PKEY_fromdata");
  }
  return PkeyPtr(raw);
}

// DerSignature: the DER ECDSA-Sig-Value of (r, s).
Result<std::vector<uint8_t>> DerSignature(const EcVector& v) {
  std::vector<uint8_t> r = Hex(v.r), s = Hex(v.s);
  ossl::UniquePtr<ECDSA_SIG> sig(ECDSA_SIG_new());
  BIGNUM* br = BN_bin2bn(r.data(), static_cast<int>(r.size()), nullptr);
  BIGNUM* bs = BN_bin2bn(s.data(), static_cast<int>(s.size()), nullptr);
  if (sig == nullptr || br == nullptr || bs == nullptr || ECDSA_SIG_set0(sig.get(), br, bs) != 1) {  // sig owns br, bs
    BN_free(br);
    BN_free(bs);
    return Failed(v.test, "ECDSA_SIG");
  }
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return Failed(v.test, "i2d_ECDSA_SIG");
  std::vector<uint8_t> der(static_cast<size_t>(len));
  uint8_t* p = der.data();
  i2d_ECDSA_SIG(sig.get(), &p);
  return der;
}

// RoundTrip: signs `msg` with `key` and verifies it. (That verification
// rejects a wrong signature is shown by the fault-injection tests, which
// corrupt the message; a negative verify here would cost start-up time.)
Status RoundTrip(std::string_view test, EVP_PKEY* key, const SigOptions& opt, std::vector<uint8_t> msg) {
  Result<std::vector<uint8_t>> sig = SignMessage(key, opt, msg);
  if (!sig.ok()) return Failed(test, "sign");
  MaybeCorrupt(test, msg);
  if (!VerifyMessage(key, opt, msg, *sig)) return Failed(test, "round-trip signature does not verify");
  return OkStatus();
}

Status EcdsaKat(const EcVector& v) {
  Result<PkeyPtr> key = EcKey(v);
  if (!key.ok()) return key.status();
  Result<std::vector<uint8_t>> sig = DerSignature(v);
  if (!sig.ok()) return sig.status();
  std::vector<uint8_t> msg = {'s', 'a', 'm', 'p', 'l', 'e'};
  std::vector<uint8_t> corrupt = msg;
  MaybeCorrupt(v.test, corrupt);
  SigOptions opt{v.md, false};
  if (!VerifyMessage(key->get(), opt, corrupt, *sig)) return Failed(v.test, "published signature does not verify");
  return RoundTrip(v.test, key->get(), opt, msg);
}

}  // namespace

Status KatEcdsaP256() {
  return EcdsaKat({"ecdsa-p256", "P-256", "SHA2-256",
                   "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
                   "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6",
                   "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299",
                   "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716",
                   "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"});
}

Status KatEcdsaP384() {
  return EcdsaKat({"ecdsa-p384", "P-384", "SHA2-384",
                   "6b9d3dad2e1b8c1c05b19875b6659f4de23c3b667bf297ba9aa47740787137d8"
                   "96d5724e4c70a825f872c9ea60d2edf5",
                   "ec3a4e415b4e19a4568618029f427fa5da9a8bc4ae92e02e06aae5286b300c64"
                   "def8f0ea9055866064a254515480bc13",
                   "8015d9b72d7d57244ea8ef9ac0c621896708a59367f9dfb9f54ca84b3f1c9db1"
                   "288b231c3ae0d4fe7344fd2533264720",
                   "94edbb92a5ecb8aad4736e56c691916b3f88140666ce9fa73d64c4ea95ad133c"
                   "81a648152e44acf96e36dd1e80fabe46",
                   "99ef4aeb15f178cea1fe40db2603138f130e740a19624526203b6351d0a3a94f"
                   "a329c145786e679e7b82c71a38628ac8"});
}

// RFC 8032 §7.1, TEST 1 (empty message). Ed25519 is deterministic, so the
// signature must equal the published one; it must also verify.
Status KatEd25519() {
  constexpr std::string_view kTest = "ed25519";
  std::vector<uint8_t> priv = Hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  PkeyPtr key(EVP_PKEY_new_raw_private_key_ex(crypto::LibCtx(), crypto::KeyType("ED25519"), nullptr, priv.data(), priv.size()));
  OPENSSL_cleanse(priv.data(), priv.size());
  uint8_t pub[32];
  size_t pub_len = sizeof(pub);
  if (key == nullptr || EVP_PKEY_get_raw_public_key(key.get(), pub, &pub_len) != 1) {
    ossl::ClearErrors();
    return Failed(kTest, "key");
  }
  Status s = Equal(kTest, {pub, pub_len}, Hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
  if (!s.ok()) return s;
  std::vector<uint8_t> msg;
  Result<std::vector<uint8_t>> sig = SignMessage(key.get(), {}, msg);
  if (!sig.ok()) return Failed(kTest, "sign");
  MaybeCorrupt(kTest, *sig);
  s = Equal(kTest, *sig,
            Hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46b"
                "d25bf5f0595bbe24655141438e7a100b"));
  if (!s.ok()) return s;
  if (!VerifyMessage(key.get(), {}, msg, *sig)) return Failed(kTest, "signature does not verify");
  return OkStatus();
}

// RSA-PSS (SHA-256, salt = 32 bytes) with the committed key: verify the
// committed signature, then a sign/verify round trip.
Status KatRsaPss() {
  constexpr std::string_view kTest = "rsa-pss";
  ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(kRsaPssKeyPem, -1));
  PkeyPtr key(bio == nullptr ? nullptr
                             : PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, nullptr, nullptr, crypto::LibCtx(), nullptr));
  if (key == nullptr) {
    ossl::ClearErrors();
    return Failed(kTest, "key");
  }
  std::vector<uint8_t> msg(kRsaPssMessage.begin(), kRsaPssMessage.end());
  std::vector<uint8_t> corrupt = msg;
  MaybeCorrupt(kTest, corrupt);
  SigOptions opt{"SHA2-256", true};
  if (!VerifyMessage(key.get(), opt, corrupt, Hex(kRsaPssSignature))) {
    return Failed(kTest, "committed signature does not verify");
  }
  return RoundTrip(kTest, key.get(), opt, msg);
}

}  // namespace certvault::selftest::internal
