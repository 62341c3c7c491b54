// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/selftest/sig_util.h"

#include <openssl/core_names.h>
#include <openssl/rsa.h>

#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::selftest::internal {
namespace {

// InitCtx: a digest-sign or digest-verify context for `key` and `opt`.
ossl::UniquePtr<EVP_MD_CTX> InitCtx(EVP_PKEY* key, const SigOptions& opt, bool sign) {
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return nullptr;
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  int rc = sign ? EVP_DigestSignInit_ex(ctx.get(), &pctx, opt.md, crypto::LibCtx(), nullptr, key, nullptr)
                : EVP_DigestVerifyInit_ex(ctx.get(), &pctx, opt.md, crypto::LibCtx(), nullptr, key, nullptr);
  if (rc != 1) return nullptr;
  if (opt.pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                  EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) {
    return nullptr;
  }
  return ctx;
}

}  // namespace

Result<std::vector<uint8_t>> SignMessage(EVP_PKEY* key, const SigOptions& opt, std::span<const uint8_t> msg) {
  ossl::UniquePtr<EVP_MD_CTX> ctx = InitCtx(key, opt, true);
  size_t len = 0;
  if (ctx == nullptr || EVP_DigestSign(ctx.get(), nullptr, &len, msg.data(), msg.size()) != 1) {
    ossl::ClearErrors();
    return Status(Reason::kDeviceError, "signature init failed");
  }
  std::vector<uint8_t> sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, msg.data(), msg.size()) != 1) {
    ossl::ClearErrors();
    return Status(Reason::kDeviceError, "signing failed");
  }
  sig.resize(len);
  return sig;
}

bool VerifyMessage(EVP_PKEY* key, const SigOptions& opt, std::span<const uint8_t> msg,
                   std::span<const uint8_t> sig) {
  ossl::UniquePtr<EVP_MD_CTX> ctx = InitCtx(key, opt, false);
  bool ok = ctx != nullptr && EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), msg.data(), msg.size()) == 1;
  ossl::ClearErrors();
  return ok;
}

}  // namespace certvault::selftest::internal
