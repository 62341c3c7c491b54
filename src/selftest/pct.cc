// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/selftest/pct.h"

#include <string>

#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/crypto/ossl_ptr.h"
#include "src/selftest/internal.h"
#include "src/selftest/selftest.h"
#include "src/selftest/sig_util.h"

namespace certvault::selftest {
namespace {

constexpr std::string_view kTest = "pct";

// MontgomeryConsistent: the public key recomputed from the raw private key
// equals the key's public key.
bool MontgomeryConsistent(EVP_PKEY* key, const char* name) {
  uint8_t priv[64], pub[64], pub2[64];
  size_t priv_len = sizeof(priv), pub_len = sizeof(pub), pub2_len = sizeof(pub2);
  bool ok = EVP_PKEY_get_raw_private_key(key, priv, &priv_len) == 1 &&
            EVP_PKEY_get_raw_public_key(key, pub, &pub_len) == 1;
  if (ok) {
    ossl::UniquePtr<EVP_PKEY> again(
        EVP_PKEY_new_raw_private_key_ex(crypto::LibCtx(), crypto::KeyType(name), nullptr, priv, priv_len));
    ok = again != nullptr && EVP_PKEY_get_raw_public_key(again.get(), pub2, &pub2_len) == 1;
    if (internal::FaultInjected(kTest)) pub2[0] ^= 1;
    ok = ok && pub_len == pub2_len && CRYPTO_memcmp(pub, pub2, pub_len) == 0;
  }
  OPENSSL_cleanse(priv, sizeof(priv));
  ossl::ClearErrors();
  return ok;
}

bool SignVerifyConsistent(EVP_PKEY* key, const char* md) {
  std::vector<uint8_t> msg = {'c', 'e', 'r', 't', 'v', 'a', 'u', 'l', 't', ' ', 'p', 'c', 't'};
  internal::SigOptions opt{md, false};
  Result<std::vector<uint8_t>> sig = internal::SignMessage(key, opt, msg);
  if (!sig.ok()) return false;
  internal::MaybeCorrupt(kTest, msg);
  return internal::VerifyMessage(key, opt, msg, *sig);
}

}  // namespace

Status PairwiseConsistencyTest(EVP_PKEY* key) {
  if (InErrorState()) return ErrorStateStatus();
  if (key == nullptr) return Status(Reason::kArgumentsBad, "no key");
  bool ok = false;
  if (EVP_PKEY_is_a(key, "X25519")) {
    ok = MontgomeryConsistent(key, "X25519");
  } else if (EVP_PKEY_is_a(key, "X448")) {
    ok = MontgomeryConsistent(key, "X448");
  } else if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")) {
    ok = SignVerifyConsistent(key, nullptr);
  } else {  // RSA, RSA-PSS, EC
    ok = SignVerifyConsistent(key, "SHA2-256");
  }
  if (!ok) {
    EnterErrorState("pct (pairwise-consistency test of a new key pair)");
    return ErrorStateStatus();
  }
  return OkStatus();
}

}  // namespace certvault::selftest
