// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// SigCtx: the vault signature and the parameters (see signature.h).
#include <openssl/core_names.h>
#include <openssl/params.h>

#include <cstring>

#include "src/base/status_macros.h"
#include "src/engine/ecdsa_sig.h"
#include "src/provider/signature.h"

namespace certvault::provider {
namespace {

Result<Mechanism> RsaMechanism(SigCtx& ctx, std::span<const uint8_t> digest, Bytes* input) {
  const EVP_MD* md = ctx.md.get();
  ossl::UniquePtr<EVP_MD> implied;
  if (md == nullptr && ctx.pad == kPadPss) {
    const char* name = DigestNameBySize(digest.size());
    if (name == nullptr) return Status(Reason::kDataLenRange, "input is not a digest");
    CV_RETURN_IF_ERROR(FetchDigest(ctx, name, &implied));
    md = implied.get();
  }
  if (ctx.pad == kPadPkcs1) {
    if (md == nullptr) {
      input->assign(digest.begin(), digest.end());  // raw PKCS#1 v1.5 block, as EVP_PKEY_sign without a digest
    } else {
      CV_ASSIGN_OR_RETURN(*input, DigestInfo(md, digest));
    }
    return Mechanism{CKM_RSA_PKCS, {}};
  }
  if (ctx.pad != kPadPss) return Status(Reason::kMechanismInvalid, "RSA padding mode not supported for vault keys");
  CV_ASSIGN_OR_RETURN(DigestCodes codes, CodesForDigest(md));
  if (digest.size() != codes.size) return Status(Reason::kDataLenRange, "input is not a digest of the set size");
  DigestCodes mgf = codes;
  if (ctx.mgf1_md != nullptr) {
    CV_ASSIGN_OR_RETURN(mgf, CodesForDigest(ctx.mgf1_md.get()));
  }
  if (mgf.mgf == 0) return Status(Reason::kMechanismParamInvalid, "MGF1 digest not supported");
  CV_ASSIGN_OR_RETURN(size_t salt, EffectiveSaltLen(ctx.saltlen, codes.size, EVP_PKEY_get_bits(ctx.key->pub.get())));
  input->assign(digest.begin(), digest.end());
  return Mechanism{CKM_RSA_PKCS_PSS, RsaPssParams{codes.hash, mgf.mgf, salt}};
}

// Shadow: a default-provider signing context on the public key with the same
// settings, to let OpenSSL encode the AlgorithmIdentifier.
Result<ossl::UniquePtr<EVP_MD_CTX>> Shadow(SigCtx& ctx) {
  ossl::UniquePtr<EVP_MD_CTX> mdctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  const char* mdname = ctx.md != nullptr ? EVP_MD_get0_name(ctx.md.get()) : nullptr;
  if (mdctx == nullptr || EVP_DigestSignInit_ex(mdctx.get(), &pctx, mdname, ctx.prov->libctx(), nullptr,
                                                ctx.key->pub.get(), nullptr) <= 0) {
    return ossl::OpenSslError("EVP_DigestSignInit_ex");
  }
  if (ctx.algo == KeyAlgo::kRsa) {
    int pad = ctx.pad;
    int salt = ctx.saltlen;
    OSSL_PARAM p[4] = {OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PAD_MODE, &pad), OSSL_PARAM_construct_end(),
                       OSSL_PARAM_construct_end(), OSSL_PARAM_construct_end()};
    if (pad == kPadPss) {
      p[1] = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, &salt);
      if (ctx.mgf1_md != nullptr) {
        p[2] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST,
                                                const_cast<char*>(EVP_MD_get0_name(ctx.mgf1_md.get())), 0);
      }
    }
    if (EVP_PKEY_CTX_set_params(pctx, p) <= 0) return ossl::OpenSslError("EVP_PKEY_CTX_set_params");
  }
  return mdctx;
}

std::string ParamString(const OSSL_PARAM& p) {
  if (p.data_type != OSSL_PARAM_UTF8_STRING || p.data == nullptr) return "";
  return std::string(static_cast<const char*>(p.data), strnlen(static_cast<const char*>(p.data), p.data_size));
}

}  // namespace

Status FetchDigest(SigCtx& ctx, const char* name, ossl::UniquePtr<EVP_MD>* out) {
  out->reset(EVP_MD_fetch(ctx.prov->libctx(), name, nullptr));
  if (*out == nullptr) return Status(Reason::kMechanismInvalid, std::string("unknown digest ") + name);
  return OkStatus();
}

Status SignDigest(SigCtx& ctx, std::span<const uint8_t> tbs, uint8_t* sig, size_t* siglen, size_t sigsize) {
  const VaultKey& key = *ctx.key;
  size_t max = static_cast<size_t>(EVP_PKEY_get_size(key.pub.get()));
  if (sig == nullptr) {
    *siglen = max;
    return OkStatus();
  }
  SecureVector raw;
  switch (ctx.algo) {
    case KeyAlgo::kEc: {
      CV_RETURN_IF_ERROR(ctx.prov->vault().Sign(key, Mechanism{CKM_ECDSA, {}}, tbs, &raw));
      CV_ASSIGN_OR_RETURN(Bytes der, engine::EcdsaRawToDer(raw));
      raw.assign(der.begin(), der.end());
      break;
    }
    case KeyAlgo::kRsa: {
      Bytes input;
      CV_ASSIGN_OR_RETURN(Mechanism mech, RsaMechanism(ctx, tbs, &input));
      CV_RETURN_IF_ERROR(ctx.prov->vault().Sign(key, mech, input, &raw));
      break;
    }
    case KeyAlgo::kEd25519:
    case KeyAlgo::kEd448:
      CV_RETURN_IF_ERROR(ctx.prov->vault().Sign(key, Mechanism{CKM_EDDSA, {}}, tbs, &raw));
      break;
    default:
      return Status(Reason::kMechanismInvalid, "not a signature key");
  }
  if (raw.size() > sigsize) return Status(Reason::kBufferTooSmall, "signature buffer too small");
  std::memcpy(sig, raw.data(), raw.size());
  *siglen = raw.size();
  return OkStatus();
}

Status SetSignParams(SigCtx& ctx, const OSSL_PARAM params[]) {
  if (params == nullptr) return OkStatus();
  for (const OSSL_PARAM* p = params; p->key != nullptr; ++p) {
    std::string_view key = p->key;
    if (key == OSSL_SIGNATURE_PARAM_DIGEST) {
      if (ctx.hash != nullptr) return Status(Reason::kOperationActive, "the digest cannot change during signing");
      CV_RETURN_IF_ERROR(FetchDigest(ctx, ParamString(*p).c_str(), &ctx.md));
    } else if (key == OSSL_SIGNATURE_PARAM_PAD_MODE) {
      CV_ASSIGN_OR_RETURN(ctx.pad, ParsePadMode(*p));
      if (ctx.pad != kPadPkcs1 && ctx.pad != kPadPss) return Status(Reason::kMechanismInvalid, "padding not supported");
    } else if (key == OSSL_SIGNATURE_PARAM_PSS_SALTLEN) {
      CV_ASSIGN_OR_RETURN(ctx.saltlen, ParseSaltLen(*p));
    } else if (key == OSSL_SIGNATURE_PARAM_MGF1_DIGEST) {
      CV_RETURN_IF_ERROR(FetchDigest(ctx, ParamString(*p).c_str(), &ctx.mgf1_md));
    }
    // Others (properties, nonce-type ...) do not change what the vault computes.
  }
  return OkStatus();
}

Status GetSignParams(SigCtx& ctx, OSSL_PARAM params[]) {
  OSSL_PARAM* p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_ALGORITHM_ID);
  if (p != nullptr) {
    CV_ASSIGN_OR_RETURN(ossl::UniquePtr<EVP_MD_CTX> shadow, Shadow(ctx));
    OSSL_PARAM one[2] = {*p, OSSL_PARAM_construct_end()};
    if (EVP_PKEY_CTX_get_params(EVP_MD_CTX_get_pkey_ctx(shadow.get()), one) <= 0) {
      return ossl::OpenSslError("EVP_PKEY_CTX_get_params(algorithm-id)");
    }
    p->return_size = one[0].return_size;
  }
  p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST);
  if (p != nullptr && ctx.md != nullptr && !OSSL_PARAM_set_utf8_string(p, EVP_MD_get0_name(ctx.md.get()))) {
    return InvalidArgumentError("digest parameter");
  }
  p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PAD_MODE);
  if (p != nullptr && !OSSL_PARAM_set_int(p, ctx.pad)) return InvalidArgumentError("pad-mode parameter");
  p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN);
  if (p != nullptr && !OSSL_PARAM_set_int(p, ctx.saltlen)) return InvalidArgumentError("saltlen parameter");
  return OkStatus();
}

}  // namespace certvault::provider
