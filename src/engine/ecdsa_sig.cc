// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/engine/ecdsa_sig.h"

#include <climits>

#include "src/crypto/ossl_error.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::engine {

Status EcdsaDerToRaw(std::span<const uint8_t> der, size_t n_len, SecureVector* out) {
  const unsigned char* p = der.data();
  ossl::UniquePtr<ECDSA_SIG> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (sig == nullptr) return ossl::OpenSslError("d2i_ECDSA_SIG");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  out->resize(2 * n_len);
  if (BN_bn2binpad(r, out->data(), static_cast<int>(n_len)) < 0 ||
      BN_bn2binpad(s, out->data() + n_len, static_cast<int>(n_len)) < 0) {
    return ossl::OpenSslError("BN_bn2binpad");
  }
  return OkStatus();
}

Result<Bytes> EcdsaRawToDer(std::span<const uint8_t> raw) {
  if (raw.empty() || raw.size() % 2 != 0 || raw.size() > INT_MAX) {
    return Status(Reason::kSignatureLenRange, "ECDSA signature must be r||s");
  }
  const int half = static_cast<int>(raw.size() / 2);
  ossl::UniquePtr<BIGNUM> r(BN_bin2bn(raw.data(), half, nullptr));
  ossl::UniquePtr<BIGNUM> s(BN_bin2bn(raw.data() + half, half, nullptr));
  ossl::UniquePtr<ECDSA_SIG> sig(ECDSA_SIG_new());
  if (r == nullptr || s == nullptr || sig == nullptr) return ossl::OpenSslError("BN_bin2bn");
  if (ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return ossl::OpenSslError("ECDSA_SIG_set0");
  r.release();  // owned by sig since ECDSA_SIG_set0 succeeded
  s.release();  // owned by sig since ECDSA_SIG_set0 succeeded
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return ossl::OpenSslError("i2d_ECDSA_SIG");
  Bytes out(static_cast<size_t>(len));
  unsigned char* p = out.data();
  if (i2d_ECDSA_SIG(sig.get(), &p) != len) return ossl::OpenSslError("i2d_ECDSA_SIG");
  return out;
}

}  // namespace certvault::engine
