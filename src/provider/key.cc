// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/provider/key.h"

#include <openssl/x509.h>

#include "src/crypto/ossl_error.h"

namespace certvault::provider {

std::string_view KeyAlgoName(KeyAlgo algo) {
  switch (algo) {
    case KeyAlgo::kRsa:
      return "RSA";
    case KeyAlgo::kEc:
      return "EC";
    case KeyAlgo::kEd25519:
      return "ED25519";
    case KeyAlgo::kEd448:
      return "ED448";
    case KeyAlgo::kX25519:
      return "X25519";
    case KeyAlgo::kX448:
      return "X448";
    default:
      return "";
  }
}

Result<KeyAlgo> KeyAlgoOf(const EVP_PKEY* pkey) {
  for (KeyAlgo algo :
       {KeyAlgo::kRsa, KeyAlgo::kEc, KeyAlgo::kEd25519, KeyAlgo::kEd448, KeyAlgo::kX25519, KeyAlgo::kX448}) {
    if (EVP_PKEY_is_a(pkey, std::string(KeyAlgoName(algo)).c_str())) return algo;
  }
  return UnimplementedError("key type not supported by the certvault provider");
}

Result<ossl::UniquePtr<EVP_PKEY>> PublicKeyFromSpki(std::span<const uint8_t> spki, OSSL_LIB_CTX* libctx) {
  const uint8_t* p = spki.data();
  ossl::UniquePtr<EVP_PKEY> pkey(d2i_PUBKEY_ex(nullptr, &p, static_cast<long>(spki.size()), libctx, nullptr));
  if (pkey == nullptr || p != spki.data() + spki.size()) {
    return ossl::OpenSslError("d2i_PUBKEY_ex", Reason::kAttributeValueInvalid);
  }
  return pkey;
}

}  // namespace certvault::provider
