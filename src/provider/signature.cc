// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// SIGNATURE dispatch (provider-signature(7)): ECDSA, RSA (PKCS#1 v1.5, PSS),
// Ed25519, Ed448 over vault keys. See signature.h.
#include "src/provider/signature.h"

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include "src/base/status_macros.h"
#include "src/provider/algorithms.h"
#include "src/provider/guard.h"

namespace certvault::provider {
namespace {

bool IsEdDsa(KeyAlgo a) { return a == KeyAlgo::kEd25519 || a == KeyAlgo::kEd448; }

Status BindKey(SigCtx& ctx, void* provkey, bool signing) {
  auto* kd = static_cast<KeyData*>(provkey);
  if (kd == nullptr) {
    if (ctx.key == nullptr) return InvalidArgumentError("no key");
  } else {
    if (kd->key == nullptr || kd->algo != ctx.algo) return Status(Reason::kKeyTypeInconsistent, "wrong key type");
    ctx.key = kd->key;
  }
  if (signing && !ctx.key->has_private()) {
    return Status(Reason::kKeyHandleInvalid, "signing needs a vault private key");
  }
  ctx.signing = signing;
  ctx.hash.reset();
  ctx.verify.reset();
  ctx.digest_verify.reset();
  return OkStatus();
}

// VerifyContext: the default provider verifies with the public key.
Status StartVerify(SigCtx& ctx, const OSSL_PARAM params[]) {
  ctx.verify.reset(EVP_PKEY_CTX_new_from_pkey(ctx.prov->libctx(), ctx.key->pub.get(), nullptr));
  if (ctx.verify == nullptr || EVP_PKEY_verify_init(ctx.verify.get()) <= 0 ||
      (params != nullptr && EVP_PKEY_CTX_set_params(ctx.verify.get(), params) <= 0)) {
    return ossl::OpenSslError("EVP_PKEY_verify_init");
  }
  return OkStatus();
}

Status StartDigestVerify(SigCtx& ctx, const char* mdname, const OSSL_PARAM params[]) {
  ctx.digest_verify.reset(EVP_MD_CTX_new());
  if (ctx.digest_verify == nullptr ||
      EVP_DigestVerifyInit_ex(ctx.digest_verify.get(), nullptr, mdname != nullptr && *mdname ? mdname : nullptr,
                              ctx.prov->libctx(), nullptr, ctx.key->pub.get(), params) <= 0) {
    return ossl::OpenSslError("EVP_DigestVerifyInit_ex");
  }
  return OkStatus();
}

Status StartDigestSign(SigCtx& ctx, const char* mdname, const OSSL_PARAM params[]) {
  if (IsEdDsa(ctx.algo)) {
    if (mdname != nullptr && *mdname != '\0') return Status(Reason::kMechanismInvalid, "EdDSA takes no digest");
    return SetSignParams(ctx, params);
  }
  CV_RETURN_IF_ERROR(FetchDigest(ctx, mdname != nullptr && *mdname ? mdname : "SHA256", &ctx.md));
  CV_RETURN_IF_ERROR(SetSignParams(ctx, params));
  ctx.hash.reset(EVP_MD_CTX_new());
  if (ctx.hash == nullptr || EVP_DigestInit_ex2(ctx.hash.get(), ctx.md.get(), nullptr) <= 0) {
    return ossl::OpenSslError("EVP_DigestInit_ex2");
  }
  return OkStatus();
}

Status FinishDigestSign(SigCtx& ctx, uint8_t* sig, size_t* siglen, size_t sigsize) {
  if (sig == nullptr) return SignDigest(ctx, {}, nullptr, siglen, sigsize);
  if (ctx.hash == nullptr) return Status(Reason::kOperationNotInitialized, "no digest-sign operation");
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.hash.get(), digest, &len) <= 0) return ossl::OpenSslError("EVP_DigestFinal_ex");
  ctx.hash.reset();
  return SignDigest(ctx, std::span<const uint8_t>(digest, len), sig, siglen, sigsize);
}

Status OneShotDigestSign(SigCtx& ctx, uint8_t* sig, size_t* siglen, size_t sigsize, const uint8_t* tbs, size_t tbslen) {
  if (IsEdDsa(ctx.algo) || sig == nullptr) return SignDigest(ctx, {tbs, tbslen}, sig, siglen, sigsize);
  if (ctx.hash == nullptr || EVP_DigestUpdate(ctx.hash.get(), tbs, tbslen) <= 0) {
    return Status(Reason::kOperationNotInitialized, "no digest-sign operation");
  }
  return FinishDigestSign(ctx, sig, siglen, sigsize);
}

template <KeyAlgo A>
void* NewCtx(void* provctx, const char* propq) {
  auto* prov = static_cast<ProviderContext*>(provctx);
  return Guarded<void*>(prov, "signature_newctx", nullptr, [&]() -> void* {
    auto* ctx = new SigCtx;
    ctx->prov = prov;
    ctx->algo = A;
    ctx->propq = propq != nullptr ? propq : "";
    if (A == KeyAlgo::kRsa) ctx->pad = kPadPkcs1;
    return ctx;
  });
}

void FreeCtx(void* vctx) { delete static_cast<SigCtx*>(vctx); }

void* DupCtx(void* vctx) {
  auto* src = static_cast<SigCtx*>(vctx);
  return Guarded<void*>(src->prov, "signature_dupctx", nullptr, [&]() -> void* {
    auto dst = std::make_unique<SigCtx>();
    dst->prov = src->prov;
    dst->propq = src->propq;
    dst->algo = src->algo;
    dst->key = src->key;
    dst->signing = src->signing;
    dst->pad = src->pad;
    dst->saltlen = src->saltlen;
    if (src->md != nullptr && EVP_MD_up_ref(src->md.get())) dst->md.reset(src->md.get());  // shared reference
    if (src->mgf1_md != nullptr && EVP_MD_up_ref(src->mgf1_md.get())) dst->mgf1_md.reset(src->mgf1_md.get());
    if (src->hash != nullptr) {
      dst->hash.reset(EVP_MD_CTX_new());
      if (dst->hash == nullptr || !EVP_MD_CTX_copy_ex(dst->hash.get(), src->hash.get())) return nullptr;
    }
    if (src->verify != nullptr) dst->verify.reset(EVP_PKEY_CTX_dup(src->verify.get()));
    if (src->digest_verify != nullptr) {
      dst->digest_verify.reset(EVP_MD_CTX_new());
      if (!EVP_MD_CTX_copy_ex(dst->digest_verify.get(), src->digest_verify.get())) return nullptr;
    }
    return dst.release();
  });
}

#define CV_SIG_CALL(name, body)           \
  auto* ctx = static_cast<SigCtx*>(vctx); \
  return Guarded(ctx->prov, name, 0, [&]() -> int { return Ok(ctx->prov, (body), name); })

int SignInit(void* vctx, void* provkey, const OSSL_PARAM params[]) {
  CV_SIG_CALL("signature_sign_init", [&]() -> Status {
    CV_RETURN_IF_ERROR(BindKey(*ctx, provkey, true));
    return SetSignParams(*ctx, params);
  }());
}

int Sign(void* vctx, unsigned char* sig, size_t* siglen, size_t sigsize, const unsigned char* tbs, size_t tbslen) {
  CV_SIG_CALL("signature_sign", SignDigest(*ctx, {tbs, tbslen}, sig, siglen, sigsize));
}

int VerifyInit(void* vctx, void* provkey, const OSSL_PARAM params[]) {
  CV_SIG_CALL("signature_verify_init", [&]() -> Status {
    CV_RETURN_IF_ERROR(BindKey(*ctx, provkey, false));
    return StartVerify(*ctx, params);
  }());
}

int Verify(void* vctx, const unsigned char* sig, size_t siglen, const unsigned char* tbs, size_t tbslen) {
  auto* ctx = static_cast<SigCtx*>(vctx);
  if (ctx->verify == nullptr) return 0;
  return EVP_PKEY_verify(ctx->verify.get(), sig, siglen, tbs, tbslen) == 1 ? 1 : 0;
}

int DigestSignInit(void* vctx, const char* mdname, void* provkey, const OSSL_PARAM params[]) {
  CV_SIG_CALL("signature_digest_sign_init", [&]() -> Status {
    CV_RETURN_IF_ERROR(BindKey(*ctx, provkey, true));
    return StartDigestSign(*ctx, mdname, params);
  }());
}

int DigestSignUpdate(void* vctx, const unsigned char* data, size_t datalen) {
  auto* ctx = static_cast<SigCtx*>(vctx);
  return ctx->hash != nullptr && EVP_DigestUpdate(ctx->hash.get(), data, datalen) > 0 ? 1 : 0;
}

int DigestSignFinal(void* vctx, unsigned char* sig, size_t* siglen, size_t sigsize) {
  CV_SIG_CALL("signature_digest_sign_final", FinishDigestSign(*ctx, sig, siglen, sigsize));
}

int DigestSign(void* vctx, unsigned char* sig, size_t* siglen, size_t sigsize, const unsigned char* tbs,
               size_t tbslen) {
  CV_SIG_CALL("signature_digest_sign", OneShotDigestSign(*ctx, sig, siglen, sigsize, tbs, tbslen));
}

int DigestVerifyInit(void* vctx, const char* mdname, void* provkey, const OSSL_PARAM params[]) {
  CV_SIG_CALL("signature_digest_verify_init", [&]() -> Status {
    CV_RETURN_IF_ERROR(BindKey(*ctx, provkey, false));
    return StartDigestVerify(*ctx, mdname, params);
  }());
}

int DigestVerifyUpdate(void* vctx, const unsigned char* data, size_t datalen) {
  auto* ctx = static_cast<SigCtx*>(vctx);
  return ctx->digest_verify != nullptr && EVP_DigestVerifyUpdate(ctx->digest_verify.get(), data, datalen) > 0;
}

int DigestVerifyFinal(void* vctx, const unsigned char* sig, size_t siglen) {
  auto* ctx = static_cast<SigCtx*>(vctx);
  return ctx->digest_verify != nullptr && EVP_DigestVerifyFinal(ctx->digest_verify.get(), sig, siglen) == 1;
}

int DigestVerify(void* vctx, const unsigned char* sig, size_t siglen, const unsigned char* tbs, size_t tbslen) {
  auto* ctx = static_cast<SigCtx*>(vctx);
  return ctx->digest_verify != nullptr && EVP_DigestVerify(ctx->digest_verify.get(), sig, siglen, tbs, tbslen) == 1;
}

EVP_PKEY_CTX* VerifyPkeyCtx(SigCtx* ctx) {
  if (ctx->digest_verify != nullptr) return EVP_MD_CTX_get_pkey_ctx(ctx->digest_verify.get());
  return ctx->verify.get();
}

int GetCtxParams(void* vctx, OSSL_PARAM params[]) {
  auto* ctx = static_cast<SigCtx*>(vctx);
  if (ctx->key == nullptr) return 0;
  if (!ctx->signing) return VerifyPkeyCtx(ctx) != nullptr && EVP_PKEY_CTX_get_params(VerifyPkeyCtx(ctx), params) > 0;
  return Guarded(ctx->prov, "signature_get_ctx_params", 0,
                 [&]() -> int { return Ok(ctx->prov, GetSignParams(*ctx, params), "signature_get_ctx_params"); });
}

int SetCtxParams(void* vctx, const OSSL_PARAM params[]) {
  auto* ctx = static_cast<SigCtx*>(vctx);
  if (!ctx->signing && VerifyPkeyCtx(ctx) != nullptr) return EVP_PKEY_CTX_set_params(VerifyPkeyCtx(ctx), params) > 0;
  return Guarded(ctx->prov, "signature_set_ctx_params", 0,
                 [&]() -> int { return Ok(ctx->prov, SetSignParams(*ctx, params), "signature_set_ctx_params"); });
}

const OSSL_PARAM* GettableCtxParams(void*, void*) {
  static const OSSL_PARAM kParams[] = {
      OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, nullptr, 0),
      OSSL_PARAM_int(OSSL_SIGNATURE_PARAM_PAD_MODE, nullptr),
      OSSL_PARAM_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, nullptr),
      OSSL_PARAM_END,
  };
  return kParams;
}

const OSSL_PARAM* SettableCtxParams(void*, void*) {
  static const OSSL_PARAM kParams[] = {
      OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PROPERTIES, nullptr, 0),
      // As the default provider declares them (strings; integers are accepted too).
      OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_PROPERTIES, nullptr, 0),
      OSSL_PARAM_END,
  };
  return kParams;
}

#define CV_FN(id, fn) \
  { id, reinterpret_cast<void (*)()>(fn) }
#define CV_SIG_COMMON(A)                                                                                      \
  CV_FN(OSSL_FUNC_SIGNATURE_NEWCTX, NewCtx<A>), CV_FN(OSSL_FUNC_SIGNATURE_FREECTX, FreeCtx),                  \
      CV_FN(OSSL_FUNC_SIGNATURE_DUPCTX, DupCtx), CV_FN(OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, DigestSignInit), \
      CV_FN(OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_INIT, DigestVerifyInit),                                        \
      CV_FN(OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, GetCtxParams),                                                \
      CV_FN(OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, GettableCtxParams),                                      \
      CV_FN(OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, SetCtxParams),                                                \
      CV_FN(OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, SettableCtxParams)

template <KeyAlgo A>
const OSSL_DISPATCH kHashing[] = {
    CV_SIG_COMMON(A),
    CV_FN(OSSL_FUNC_SIGNATURE_SIGN_INIT, SignInit),
    CV_FN(OSSL_FUNC_SIGNATURE_SIGN, Sign),
    CV_FN(OSSL_FUNC_SIGNATURE_VERIFY_INIT, VerifyInit),
    CV_FN(OSSL_FUNC_SIGNATURE_VERIFY, Verify),
    CV_FN(OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, DigestSignUpdate),
    CV_FN(OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, DigestSignFinal),
    // One-shot too: EVP_DigestSign (TLS CertificateVerify, X.509) then skips
    // the context copy EVP_DigestSignFinal makes.
    CV_FN(OSSL_FUNC_SIGNATURE_DIGEST_SIGN, DigestSign),
    CV_FN(OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_UPDATE, DigestVerifyUpdate),
    CV_FN(OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_FINAL, DigestVerifyFinal),
    {0, nullptr},
};

template <KeyAlgo A>
const OSSL_DISPATCH kEdDsa[] = {
    CV_SIG_COMMON(A),
    CV_FN(OSSL_FUNC_SIGNATURE_DIGEST_SIGN, DigestSign),
    CV_FN(OSSL_FUNC_SIGNATURE_DIGEST_VERIFY, DigestVerify),
    {0, nullptr},
};

}  // namespace

const OSSL_ALGORITHM* SignatureAlgorithms() {
  static const OSSL_ALGORITHM kAlgorithms[] = {
      {kVaultEcdsa, "provider=certvault", kHashing<KeyAlgo::kEc>, "certvault ECDSA"},
      {kVaultRsaSig, "provider=certvault", kHashing<KeyAlgo::kRsa>, "certvault RSA"},
      {kVaultEd25519, "provider=certvault", kEdDsa<KeyAlgo::kEd25519>, "certvault Ed25519"},
      {kVaultEd448, "provider=certvault", kEdDsa<KeyAlgo::kEd448>, "certvault Ed448"},
      // The standard names too, for applications that fetch them explicitly.
      {"ECDSA", "provider=certvault", kHashing<KeyAlgo::kEc>, "certvault ECDSA"},
      {"RSA:rsaEncryption:1.2.840.113549.1.1.1", "provider=certvault", kHashing<KeyAlgo::kRsa>, "certvault RSA"},
      {"ED25519:Ed25519:1.3.101.112", "provider=certvault", kEdDsa<KeyAlgo::kEd25519>, "certvault Ed25519"},
      {"ED448:Ed448:1.3.101.113", "provider=certvault", kEdDsa<KeyAlgo::kEd448>, "certvault Ed448"},
      {nullptr, nullptr, nullptr, nullptr},
  };
  return kAlgorithms;
}

}  // namespace certvault::provider
