// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// ASYM_CIPHER (provider-asym_cipher(7)) for vault RSA keys: decryption in the
// vault with CKM_RSA_PKCS (RSAES-PKCS1-v1_5) or CKM_RSA_PKCS_OAEP; encryption
// needs only the public key and is done by the default provider.
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include <cstring>

#include "src/base/status_macros.h"
#include "src/crypto/ossl_error.h"
#include "src/provider/algorithms.h"
#include "src/provider/guard.h"
#include "src/provider/keydata.h"
#include "src/provider/sigalg.h"

namespace certvault::provider {
namespace {

struct CipherCtx {
  ProviderContext* prov = nullptr;
  std::shared_ptr<const VaultKey> key;
  int pad = kPadPkcs1;
  std::string oaep_md = "SHA1";  // RFC 8017 default, as OpenSSL's
  std::string mgf1_md;           // "" = the OAEP digest
  Bytes label;
  ossl::UniquePtr<EVP_PKEY_CTX> encrypt;  // default provider, public key
};

std::string ParamText(const OSSL_PARAM& p) {
  if (p.data_type != OSSL_PARAM_UTF8_STRING || p.data == nullptr) return "";
  return std::string(static_cast<const char*>(p.data), strnlen(static_cast<const char*>(p.data), p.data_size));
}

Status SetParams(CipherCtx& ctx, const OSSL_PARAM params[]) {
  if (params == nullptr) return OkStatus();
  if (ctx.encrypt != nullptr && EVP_PKEY_CTX_set_params(ctx.encrypt.get(), params) <= 0) {
    return ossl::OpenSslError("EVP_PKEY_CTX_set_params", Reason::kMechanismParamInvalid);
  }
  for (const OSSL_PARAM* p = params; p->key != nullptr; ++p) {
    std::string_view key = p->key;
    if (key == OSSL_ASYM_CIPHER_PARAM_PAD_MODE) {
      CV_ASSIGN_OR_RETURN(ctx.pad, ParsePadMode(*p));
      if (ctx.pad != kPadPkcs1 && ctx.pad != kPadOaep)
        return Status(Reason::kMechanismInvalid, "padding not supported");
    } else if (key == OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST) {
      ctx.oaep_md = ParamText(*p);
    } else if (key == OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST) {
      ctx.mgf1_md = ParamText(*p);
    } else if (key == OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL) {
      const auto* data = static_cast<const uint8_t*>(p->data);
      if (p->data_type != OSSL_PARAM_OCTET_STRING) return InvalidArgumentError("oaep-label must be octets");
      ctx.label.assign(data, data + p->data_size);
    }
  }
  return OkStatus();
}

Result<Mechanism> DecryptMechanism(CipherCtx& ctx) {
  if (ctx.pad == kPadPkcs1) return Mechanism{CKM_RSA_PKCS, {}};
  ossl::UniquePtr<EVP_MD> md(EVP_MD_fetch(ctx.prov->libctx(), ctx.oaep_md.c_str(), nullptr));
  ossl::UniquePtr<EVP_MD> mgf(
      EVP_MD_fetch(ctx.prov->libctx(), (ctx.mgf1_md.empty() ? ctx.oaep_md : ctx.mgf1_md).c_str(), nullptr));
  if (md == nullptr || mgf == nullptr) return Status(Reason::kMechanismParamInvalid, "unknown OAEP digest");
  CV_ASSIGN_OR_RETURN(DigestCodes hash, CodesForDigest(md.get()));
  CV_ASSIGN_OR_RETURN(DigestCodes mgf_codes, CodesForDigest(mgf.get()));
  if (mgf_codes.mgf == 0) return Status(Reason::kMechanismParamInvalid, "MGF1 digest not supported");
  RsaOaepParams p;
  p.hash_alg = hash.hash;
  p.mgf = mgf_codes.mgf;
  p.source = CKZ_DATA_SPECIFIED;
  p.label = ctx.label;
  return Mechanism{CKM_RSA_PKCS_OAEP, p};
}

Status Decrypt(CipherCtx& ctx, uint8_t* out, size_t* outlen, size_t outsize, std::span<const uint8_t> in) {
  size_t max = static_cast<size_t>(EVP_PKEY_get_size(ctx.key->pub.get()));
  if (out == nullptr) {
    *outlen = max;
    return OkStatus();
  }
  CV_ASSIGN_OR_RETURN(Mechanism mech, DecryptMechanism(ctx));
  SecureVector plain;
  CV_RETURN_IF_ERROR(ctx.prov->vault().Decrypt(*ctx.key, mech, in, &plain));
  if (plain.size() > outsize) return Status(Reason::kBufferTooSmall, "plaintext buffer too small");
  std::memcpy(out, plain.data(), plain.size());
  *outlen = plain.size();
  return OkStatus();
}

Status Init(CipherCtx& ctx, void* provkey, const OSSL_PARAM params[], bool decrypt) {
  auto* kd = static_cast<KeyData*>(provkey);
  if (kd == nullptr || kd->key == nullptr || kd->algo != KeyAlgo::kRsa) {
    return Status(Reason::kKeyTypeInconsistent, "not an RSA key");
  }
  if (decrypt && !kd->key->has_private())
    return Status(Reason::kKeyHandleInvalid, "decryption needs a vault private key");
  ctx.key = kd->key;
  ctx.encrypt.reset();
  if (!decrypt) {
    ctx.encrypt.reset(EVP_PKEY_CTX_new_from_pkey(ctx.prov->libctx(), ctx.key->pub.get(), nullptr));
    if (ctx.encrypt == nullptr || EVP_PKEY_encrypt_init(ctx.encrypt.get()) <= 0) {
      return ossl::OpenSslError("EVP_PKEY_encrypt_init");
    }
  }
  return SetParams(ctx, params);
}

void* NewCtx(void* provctx) {
  auto* prov = static_cast<ProviderContext*>(provctx);
  return Guarded<void*>(prov, "asym_newctx", nullptr, [&]() -> void* {
    auto* ctx = new CipherCtx;
    ctx->prov = prov;
    return ctx;
  });
}

void FreeCtx(void* vctx) { delete static_cast<CipherCtx*>(vctx); }

void* DupCtx(void* vctx) {
  auto* src = static_cast<CipherCtx*>(vctx);
  return Guarded<void*>(src->prov, "asym_dupctx", nullptr, [&]() -> void* {
    auto* dst = new CipherCtx;
    dst->prov = src->prov;
    dst->key = src->key;
    dst->pad = src->pad;
    dst->oaep_md = src->oaep_md;
    dst->mgf1_md = src->mgf1_md;
    dst->label = src->label;
    if (src->encrypt != nullptr) dst->encrypt.reset(EVP_PKEY_CTX_dup(src->encrypt.get()));
    return dst;
  });
}

#define CV_CALL(name, expr)                  \
  auto* ctx = static_cast<CipherCtx*>(vctx); \
  return Guarded(ctx->prov, name, 0, [&]() -> int { return Ok(ctx->prov, (expr), name); })

int EncryptInit(void* vctx, void* provkey, const OSSL_PARAM params[]) {
  CV_CALL("asym_encrypt_init", Init(*ctx, provkey, params, false));
}
int DecryptInit(void* vctx, void* provkey, const OSSL_PARAM params[]) {
  CV_CALL("asym_decrypt_init", Init(*ctx, provkey, params, true));
}
int EncryptFn(void* vctx, unsigned char* out, size_t* outlen, size_t outsize, const unsigned char* in, size_t inlen) {
  auto* ctx = static_cast<CipherCtx*>(vctx);
  if (ctx->encrypt == nullptr) return 0;
  *outlen = outsize;
  return EVP_PKEY_encrypt(ctx->encrypt.get(), out, outlen, in, inlen) > 0;
}
int DecryptFn(void* vctx, unsigned char* out, size_t* outlen, size_t outsize, const unsigned char* in, size_t inlen) {
  CV_CALL("asym_decrypt", Decrypt(*ctx, out, outlen, outsize, {in, inlen}));
}
int SetCtxParams(void* vctx, const OSSL_PARAM params[]) { CV_CALL("asym_set_ctx_params", SetParams(*ctx, params)); }
int GetCtxParams(void* vctx, OSSL_PARAM params[]) {
  auto* ctx = static_cast<CipherCtx*>(vctx);
  OSSL_PARAM* p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_PAD_MODE);
  if (p != nullptr && !OSSL_PARAM_set_int(p, ctx->pad)) return 0;
  p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST);
  if (p != nullptr && !OSSL_PARAM_set_utf8_string(p, ctx->oaep_md.c_str())) return 0;
  return 1;
}

const OSSL_PARAM* SettableCtxParams(void*, void*) {
  static const OSSL_PARAM kParams[] = {
      OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST_PROPS, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST_PROPS, nullptr, 0),
      OSSL_PARAM_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, nullptr, 0),
      OSSL_PARAM_END,
  };
  return kParams;
}
const OSSL_PARAM* GettableCtxParams(void*, void*) {
  static const OSSL_PARAM kParams[] = {
      OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, nullptr, 0),
      OSSL_PARAM_END,
  };
  return kParams;
}

#define CV_FN(id, fn) \
  { id, reinterpret_cast<void (*)()>(fn) }
const OSSL_DISPATCH kRsaCipher[] = {
    CV_FN(OSSL_FUNC_ASYM_CIPHER_NEWCTX, NewCtx),
    CV_FN(OSSL_FUNC_ASYM_CIPHER_FREECTX, FreeCtx),
    CV_FN(OSSL_FUNC_ASYM_CIPHER_DUPCTX, DupCtx),
    CV_FN(OSSL_FUNC_ASYM_CIPHER_ENCRYPT_INIT, EncryptInit),
    CV_FN(OSSL_FUNC_ASYM_CIPHER_ENCRYPT, EncryptFn),
    CV_FN(OSSL_FUNC_ASYM_CIPHER_DECRYPT_INIT, DecryptInit),
    CV_FN(OSSL_FUNC_ASYM_CIPHER_DECRYPT, DecryptFn),
    CV_FN(OSSL_FUNC_ASYM_CIPHER_SET_CTX_PARAMS, SetCtxParams),
    CV_FN(OSSL_FUNC_ASYM_CIPHER_SETTABLE_CTX_PARAMS, SettableCtxParams),
    CV_FN(OSSL_FUNC_ASYM_CIPHER_GET_CTX_PARAMS, GetCtxParams),
    CV_FN(OSSL_FUNC_ASYM_CIPHER_GETTABLE_CTX_PARAMS, GettableCtxParams),
    {0, nullptr},
};

}  // namespace

const OSSL_ALGORITHM* AsymCipherAlgorithms() {
  static const OSSL_ALGORITHM kAlgorithms[] = {
      {kVaultRsaCipher, "provider=certvault", kRsaCipher, "certvault RSA decryption"},
      {"RSA:rsaEncryption:1.2.840.113549.1.1.1", "provider=certvault", kRsaCipher, "certvault RSA decryption"},
      {nullptr, nullptr, nullptr, nullptr},
  };
  return kAlgorithms;
}

}  // namespace certvault::provider
