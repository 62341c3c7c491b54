// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/crypto/random.h"

#include <openssl/rand.h>

#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"

namespace certvault::crypto {

Status RandomBytes(std::span<uint8_t> out) {
  if (out.empty()) return OkStatus();
  if (RAND_bytes_ex(LibCtx(), out.data(), out.size(), 0) != 1) {
    return ossl::OpenSslError("RAND_bytes_ex");
  }
  return OkStatus();
}

Status RandomSecretBytes(std::span<uint8_t> out) {
  if (out.empty()) return OkStatus();
  if (RAND_priv_bytes_ex(LibCtx(), out.data(), out.size(), 0) != 1) {
    return ossl::OpenSslError("RAND_priv_bytes_ex");
  }
  return OkStatus();
}

Result<SecretBytes> NewRandomSecret(size_t size) {
  SecretBytes out(size);
  Status st = RandomSecretBytes(out.MutableBytes(SecretAccess::Get()));
  if (!st.ok()) return st;
  return out;
}

}  // namespace certvault::crypto
