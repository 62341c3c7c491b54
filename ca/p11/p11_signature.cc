// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The signature implementation of the cv-p11 provider (p11_pkey.h): OpenSSL
// (certvault's context) computes the digest, the token signs it:
//   ECDSA          C_Sign(CKM_ECDSA, digest) = r||s, returned as DER
//                  ECDSA-Sig-Value (RFC 5480 §2.2 / SEC 1).
//   RSA PKCS#1     C_Sign(CKM_RSA_PKCS, DigestInfo) (RFC 8017 §9.2).
//   RSA PSS        C_Sign(CKM_RSA_PKCS_PSS, digest) with CK_RSA_PKCS_PSS_PARAMS
//                  (PKCS#11 v3.0 §2.1.14: "the input is the message hash").
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include <array>
#include <cstring>
#include <string>

#include "ca/p11/p11_pkey_internal.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/x509_build.h"

namespace certvault::ca::p11key {
namespace {

// Hash: a digest the token can be asked for, with the DER DigestInfo prefix
// of RFC 8017 §9.2 note 1 ("DigestInfo ... || H").
struct Hash {
  const char* name;
  CK_MECHANISM_TYPE ckm;
  CK_RSA_PKCS_MGF_TYPE mgf;
  std::array<uint8_t, 19> prefix;
  size_t prefix_len;
};

constexpr std::array<Hash, 5> kHashes = {{
    {"SHA1",
     CKM_SHA_1,
     CKG_MGF1_SHA1,
     {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14},
     15},
    {"SHA2-224",
     CKM_SHA224,
     CKG_MGF1_SHA224,
     {0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04, 0x1c},
     19},
    {"SHA2-256",
     CKM_SHA256,
     CKG_MGF1_SHA256,
     {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
     19},
    {"SHA2-384",
     CKM_SHA384,
     CKG_MGF1_SHA384,
     {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
     19},
    {"SHA2-512",
     CKM_SHA512,
     CKG_MGF1_SHA512,
     {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
     19},
}};

const Hash* HashOf(const EVP_MD* md) {
  for (const Hash& h : kHashes) {
    if (md != nullptr && EVP_MD_is_a(md, h.name)) return &h;
  }
  return nullptr;
}

ossl::UniquePtr<EVP_MD> FetchMd(const char* name) {
  return ossl::UniquePtr<EVP_MD>(EVP_MD_fetch(crypto::LibCtx(), name, crypto::kPropq));
}

struct SigCtx {
  std::shared_ptr<TokenKey> key;  // null when only verifying with a public key
  EVP_PKEY* pub = nullptr;        // the public half (held by the key data)
  ossl::UniquePtr<EVP_MD> md;     // null: the input is signed as given
  ossl::UniquePtr<EVP_MD> mgf1;   // null: as md
  int pad = RSA_PKCS1_PADDING;
  int saltlen = RSA_PSS_SALTLEN_DIGEST;
  ossl::UniquePtr<EVP_MD_CTX> mdctx;  // digest_sign_* only
};

// PssSaltLen: RSA_PSS_SALTLEN_DIGEST / _MAX / _AUTO or a length in bytes.
size_t PssSaltLen(const SigCtx& c, size_t hash_len) {
  if (c.saltlen >= 0) return static_cast<size_t>(c.saltlen);
  if (c.saltlen == RSA_PSS_SALTLEN_DIGEST) return hash_len;
  size_t em_len = static_cast<size_t>(EVP_PKEY_get_bits(c.pub) - 1 + 7) / 8;  // RFC 8017 §9.1.1
  return em_len > hash_len + 2 ? em_len - hash_len - 2 : 0;
}

// SignDigest: the token's signature over `digest` as OpenSSL returns one.
Status SignDigest(SigCtx& c, std::span<const uint8_t> digest, Bytes& out) {
  if (c.key->type() == KeyType::kEc) {
    Bytes raw;
    CV_RETURN_IF_ERROR(c.key->Sign(CK_MECHANISM{CKM_ECDSA, nullptr, 0}, digest, raw));
    CV_ASSIGN_OR_RETURN(out, x509::RawEcdsaToDer(raw));
    return OkStatus();
  }
  const Hash* h = HashOf(c.md.get());
  if (c.md != nullptr && (h == nullptr || digest.size() != static_cast<size_t>(EVP_MD_get_size(c.md.get())))) {
    return InvalidArgumentError("digest not supported or of the wrong length");
  }
  if (c.pad == RSA_PKCS1_PADDING) {
    Bytes info;
    if (h != nullptr) info.assign(h->prefix.begin(), h->prefix.begin() + h->prefix_len);
    info.insert(info.end(), digest.begin(), digest.end());
    return c.key->Sign(CK_MECHANISM{CKM_RSA_PKCS, nullptr, 0}, info, out);
  }
  if (c.pad != RSA_PKCS1_PSS_PADDING || h == nullptr) return InvalidArgumentError("RSA padding not supported");
  const Hash* mgf = c.mgf1 != nullptr ? HashOf(c.mgf1.get()) : h;
  if (mgf == nullptr) return InvalidArgumentError("MGF1 digest not supported");
  CK_RSA_PKCS_PSS_PARAMS pss{h->ckm, mgf->mgf, PssSaltLen(c, digest.size())};
  return c.key->Sign(CK_MECHANISM{CKM_RSA_PKCS_PSS, &pss, sizeof(pss)}, digest, out);
}

// Emit: a size query (sig == nullptr) or the signature of `digest`.
int Emit(SigCtx& c, std::span<const uint8_t> digest, unsigned char* sig, size_t* siglen, size_t sigsize) {
  if (c.key == nullptr) {
    Raise("not initialized for signing");
    return 0;
  }
  if (sig == nullptr) {
    *siglen = static_cast<size_t>(EVP_PKEY_get_size(c.pub));
    return 1;
  }
  Bytes out;
  Status st = SignDigest(c, digest, out);
  if (!st.ok()) {
    Raise(st.ToString());
    return 0;
  }
  if (out.size() > sigsize) {
    Raise("signature buffer too small");
    return 0;
  }
  std::memcpy(sig, out.data(), out.size());
  *siglen = out.size();
  return 1;
}

// ---- parameters ------------------------------------------------------------

int SetPad(SigCtx& c, const OSSL_PARAM* p) {
  if (p->data_type == OSSL_PARAM_INTEGER) return OSSL_PARAM_get_int(p, &c.pad);
  const char* s = nullptr;
  if (OSSL_PARAM_get_utf8_string_ptr(p, &s) != 1) return 0;
  if (std::strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PKCSV15) == 0)
    c.pad = RSA_PKCS1_PADDING;
  else if (std::strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PSS) == 0)
    c.pad = RSA_PKCS1_PSS_PADDING;
  else
    return 0;
  return 1;
}

int SetSaltLen(SigCtx& c, const OSSL_PARAM* p) {
  if (p->data_type == OSSL_PARAM_INTEGER) return OSSL_PARAM_get_int(p, &c.saltlen);
  const char* s = nullptr;
  if (OSSL_PARAM_get_utf8_string_ptr(p, &s) != 1) return 0;
  if (std::strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) == 0)
    c.saltlen = RSA_PSS_SALTLEN_DIGEST;
  else if (std::strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_MAX) == 0)
    c.saltlen = RSA_PSS_SALTLEN_MAX;
  else if (std::strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_AUTO) == 0)
    c.saltlen = RSA_PSS_SALTLEN_AUTO;
  else
    c.saltlen = std::atoi(s);
  return c.saltlen >= -3 ? 1 : 0;
}

int SetCtxParams(void* p, const OSSL_PARAM params[]) {
  return Guarded([&] {
    auto& c = *static_cast<SigCtx*>(p);
    const char* name = nullptr;
    if (const OSSL_PARAM* d = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST); d != nullptr) {
      if (OSSL_PARAM_get_utf8_string_ptr(d, &name) != 1 || (c.md = FetchMd(name)) == nullptr) return 0;
    }
    if (const OSSL_PARAM* m = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST); m != nullptr) {
      if (OSSL_PARAM_get_utf8_string_ptr(m, &name) != 1 || (c.mgf1 = FetchMd(name)) == nullptr) return 0;
    }
    const OSSL_PARAM* pad = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PAD_MODE);
    if (pad != nullptr && SetPad(c, pad) != 1) return 0;
    const OSSL_PARAM* salt = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN);
    if (salt != nullptr && SetSaltLen(c, salt) != 1) return 0;
    return 1;
  });
}

const OSSL_PARAM* SettableCtxParams(void*, void*) {
  static const OSSL_PARAM kSettable[] = {OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, nullptr, 0),
                                         OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PROPERTIES, nullptr, 0),
                                         OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, nullptr, 0),
                                         OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, nullptr, 0),
                                         OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, nullptr, 0),
                                         OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_PROPERTIES, nullptr, 0),
                                         OSSL_PARAM_END};
  return kSettable;
}

int GetCtxParams(void* p, OSSL_PARAM params[]) {
  auto& c = *static_cast<SigCtx*>(p);
  if (OSSL_PARAM* d = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST); d != nullptr && c.md != nullptr) {
    if (OSSL_PARAM_set_utf8_string(d, EVP_MD_get0_name(c.md.get())) != 1) return 0;
  }
  if (OSSL_PARAM* pad = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PAD_MODE); pad != nullptr) {
    if (pad->data_type != OSSL_PARAM_INTEGER || OSSL_PARAM_set_int(pad, c.pad) != 1) return 0;
  }
  return 1;
}

const OSSL_PARAM* GettableCtxParams(void*, void*) {
  static const OSSL_PARAM kGettable[] = {OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, nullptr, 0),
                                         OSSL_PARAM_int(OSSL_SIGNATURE_PARAM_PAD_MODE, nullptr), OSSL_PARAM_END};
  return kGettable;
}

// ---- operations --------------------------------------------------------------

void* NewCtx(void*, const char*) { return new (std::nothrow) SigCtx(); }
void FreeCtx(void* p) { delete static_cast<SigCtx*>(p); }

void* DupCtx(void* p) {
  auto& c = *static_cast<SigCtx*>(p);
  auto* d = new (std::nothrow) SigCtx();
  if (d == nullptr) return nullptr;
  d->key = c.key;
  d->pub = c.pub;
  if (c.md != nullptr && EVP_MD_up_ref(c.md.get()) == 1) d->md.reset(c.md.get());
  if (c.mgf1 != nullptr && EVP_MD_up_ref(c.mgf1.get()) == 1) d->mgf1.reset(c.mgf1.get());
  d->pad = c.pad;
  d->saltlen = c.saltlen;
  if (c.mdctx != nullptr) {
    d->mdctx.reset(EVP_MD_CTX_new());
    if (d->mdctx == nullptr || EVP_MD_CTX_copy_ex(d->mdctx.get(), c.mdctx.get()) != 1) {
      delete d;
      return nullptr;
    }
  }
  return d;
}

int SignInit(void* p, void* keydata, const OSSL_PARAM params[]) {
  auto& c = *static_cast<SigCtx*>(p);
  std::shared_ptr<TokenKey> key = TokenKeyOf(keydata);
  if (key == nullptr) {
    Raise("not a private key in a PKCS#11 token");
    return 0;
  }
  c.pub = key->pub();
  c.key = std::move(key);
  return SetCtxParams(p, params);
}

int Sign(void* p, unsigned char* sig, size_t* siglen, size_t sigsize, const unsigned char* tbs, size_t tbslen) {
  return Guarded([&] { return Emit(*static_cast<SigCtx*>(p), {tbs, tbslen}, sig, siglen, sigsize); });
}

// InitDigest: the message digest of a digest_sign/verify operation (the
// key's default when OpenSSL names none).
int InitDigest(SigCtx& c, const char* mdname) {
  if (mdname != nullptr && *mdname != '\0') c.md = FetchMd(mdname);
  if (c.md == nullptr)
    c.md = FetchMd(EVP_PKEY_is_a(c.pub, "EC") && EVP_PKEY_get_bits(c.pub) > 256 ? "SHA384" : "SHA256");
  c.mdctx.reset(EVP_MD_CTX_new());
  return c.md != nullptr && c.mdctx != nullptr && EVP_DigestInit_ex2(c.mdctx.get(), c.md.get(), nullptr) == 1 ? 1 : 0;
}

int DigestSignInit(void* p, const char* mdname, void* keydata, const OSSL_PARAM params[]) {
  return Guarded([&] {
    if (SignInit(p, keydata, params) != 1) return 0;
    return InitDigest(*static_cast<SigCtx*>(p), mdname);
  });
}

int DigestSignUpdate(void* p, const unsigned char* data, size_t len) {
  auto& c = *static_cast<SigCtx*>(p);
  return c.mdctx != nullptr && EVP_DigestUpdate(c.mdctx.get(), data, len) == 1 ? 1 : 0;
}

int DigestSignFinal(void* p, unsigned char* sig, size_t* siglen, size_t sigsize) {
  return Guarded([&] {
    auto& c = *static_cast<SigCtx*>(p);
    if (sig == nullptr) return Emit(c, {}, nullptr, siglen, sigsize);
    std::array<uint8_t, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    if (c.mdctx == nullptr || EVP_DigestFinal_ex(c.mdctx.get(), digest.data(), &len) != 1) return 0;
    return Emit(c, {digest.data(), len}, sig, siglen, sigsize);
  });
}

// ---- verification: with the public half, in certvault's context ----------

// VerifyDigest: `sig` over `digest` under the public half, with the
// context's digest, padding, salt length and MGF1 digest.
int VerifyDigest(const SigCtx& c, std::span<const uint8_t> digest, std::span<const uint8_t> sig) {
  ossl::UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(crypto::LibCtx(), c.pub, crypto::kPropq));
  if (ctx == nullptr || EVP_PKEY_verify_init(ctx.get()) != 1) return 0;
  if (c.md != nullptr && EVP_PKEY_CTX_set_signature_md(ctx.get(), c.md.get()) != 1) return 0;
  if (EVP_PKEY_is_a(c.pub, "RSA")) {
    if (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), c.pad) != 1) return 0;
    if (c.pad == RSA_PKCS1_PSS_PADDING &&
        (EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), c.saltlen) != 1 ||
         (c.mgf1 != nullptr && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), c.mgf1.get()) != 1))) {
      return 0;
    }
  }
  return EVP_PKEY_verify(ctx.get(), sig.data(), sig.size(), digest.data(), digest.size()) == 1 ? 1 : 0;
}

int VerifyInit(void* p, void* keydata, const OSSL_PARAM params[]) {
  auto& c = *static_cast<SigCtx*>(p);
  c.pub = PublicKeyOf(keydata);
  if (c.pub == nullptr) return 0;
  c.key = TokenKeyOf(keydata);
  return SetCtxParams(p, params);
}

int Verify(void* p, const unsigned char* sig, size_t siglen, const unsigned char* tbs, size_t tbslen) {
  return Guarded([&] { return VerifyDigest(*static_cast<SigCtx*>(p), {tbs, tbslen}, {sig, siglen}); });
}

int DigestVerifyInit(void* p, const char* mdname, void* keydata, const OSSL_PARAM params[]) {
  return Guarded([&] {
    if (VerifyInit(p, keydata, params) != 1) return 0;
    return InitDigest(*static_cast<SigCtx*>(p), mdname);
  });
}

int DigestVerifyFinal(void* p, const unsigned char* sig, size_t siglen) {
  return Guarded([&] {
    auto& c = *static_cast<SigCtx*>(p);
    std::array<uint8_t, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    if (c.mdctx == nullptr || EVP_DigestFinal_ex(c.mdctx.get(), digest.data(), &len) != 1) return 0;
    return VerifyDigest(c, {digest.data(), len}, {sig, siglen});
  });
}

using Fn = void (*)(void);

}  // namespace

const OSSL_DISPATCH kSignature[] = {{OSSL_FUNC_SIGNATURE_NEWCTX, reinterpret_cast<Fn>(NewCtx)},
                                    {OSSL_FUNC_SIGNATURE_FREECTX, reinterpret_cast<Fn>(FreeCtx)},
                                    {OSSL_FUNC_SIGNATURE_DUPCTX, reinterpret_cast<Fn>(DupCtx)},
                                    {OSSL_FUNC_SIGNATURE_SIGN_INIT, reinterpret_cast<Fn>(SignInit)},
                                    {OSSL_FUNC_SIGNATURE_SIGN, reinterpret_cast<Fn>(Sign)},
                                    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, reinterpret_cast<Fn>(DigestSignInit)},
                                    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, reinterpret_cast<Fn>(DigestSignUpdate)},
                                    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, reinterpret_cast<Fn>(DigestSignFinal)},
                                    {OSSL_FUNC_SIGNATURE_VERIFY_INIT, reinterpret_cast<Fn>(VerifyInit)},
                                    {OSSL_FUNC_SIGNATURE_VERIFY, reinterpret_cast<Fn>(Verify)},
                                    {OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_INIT, reinterpret_cast<Fn>(DigestVerifyInit)},
                                    {OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_UPDATE, reinterpret_cast<Fn>(DigestSignUpdate)},
                                    {OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_FINAL, reinterpret_cast<Fn>(DigestVerifyFinal)},
                                    {OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, reinterpret_cast<Fn>(GetCtxParams)},
                                    {OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, reinterpret_cast<Fn>(GettableCtxParams)},
                                    {OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, reinterpret_cast<Fn>(SetCtxParams)},
                                    {OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, reinterpret_cast<Fn>(SettableCtxParams)},
                                    {0, nullptr}};

}  // namespace certvault::ca::p11key
