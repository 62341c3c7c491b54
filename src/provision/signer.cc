// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include <openssl/ec.h>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/provision/provision.h"

namespace certvault::provision {

x509::Signer EvpSigner(EVP_PKEY* key) {
  return [key](std::span<const uint8_t> tbs) -> Result<Bytes> {
    ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    size_t len = 0;
    if (ctx == nullptr ||
        EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", crypto::LibCtx(), crypto::kPropq, key, nullptr) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, tbs.data(), tbs.size()) != 1) {
      return ossl::OpenSslError("EVP_DigestSign");
    }
    Bytes der(len);
    if (EVP_DigestSign(ctx.get(), der.data(), &len, tbs.data(), tbs.size()) != 1) {
      return ossl::OpenSslError("EVP_DigestSign");
    }
    const unsigned char* p = der.data();
    ossl::UniquePtr<ECDSA_SIG> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)));  // NOLINT(runtime/int)
    Bytes raw(64);
    if (sig == nullptr || BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), raw.data(), 32) != 32 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), raw.data() + 32, 32) != 32) {
      return ossl::OpenSslError("d2i_ECDSA_SIG");
    }
    return raw;
  };
}

}  // namespace certvault::provision
