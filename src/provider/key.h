// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// VaultKey: what the provider knows about one key: where it lives in the
// vault (slot and the private key's stable object handle) and its public half
// as an EVP_PKEY of the private library context (default provider), from
// CKA_PUBLIC_KEY_INFO. A VaultKey without a private handle is a public key:
// one read from the vault's public-key object, or one OpenSSL imported into
// the provider's KEYMGMT (a certificate's key, a TLS peer's key) -- never a
// software private key. Immutable after construction; shared by the
// EVP_PKEYs that reference it.
#ifndef CERTVAULT_PROVIDER_KEY_H_
#define CERTVAULT_PROVIDER_KEY_H_

#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/crypto/ossl_ptr.h"
#include "src/model/types.h"

namespace certvault::provider {

enum class KeyAlgo : uint8_t { kRsa, kEc, kEd25519, kEd448, kX25519, kX448 };

struct VaultKey {
  KeyAlgo algo = KeyAlgo::kEc;
  SlotId slot = 0;
  ObjectHandle private_handle = 0;  // 0: public key only
  ossl::UniquePtr<EVP_PKEY> pub;    // never null
  std::string label;
  Bytes id;
  // always_authenticate: CKA_ALWAYS_AUTHENTICATE of the private key; each
  // sign/decrypt then needs C_Login(CKU_CONTEXT_SPECIFIC) (v3.0 §4.9).
  bool always_authenticate = false;

  bool has_private() const { return private_handle != 0; }
};

// KeyAlgoName: the KEYMGMT name ("RSA", "EC", "ED25519", "ED448", "X25519", "X448").
std::string_view KeyAlgoName(KeyAlgo algo);
// KeyAlgoOf: the algorithm of a public EVP_PKEY; kUnimplemented for others.
Result<KeyAlgo> KeyAlgoOf(const EVP_PKEY* pkey);
// PublicKeyFromSpki: DER SubjectPublicKeyInfo -> EVP_PKEY in `libctx`.
Result<ossl::UniquePtr<EVP_PKEY>> PublicKeyFromSpki(std::span<const uint8_t> spki, OSSL_LIB_CTX* libctx);

}  // namespace certvault::provider

#endif  // CERTVAULT_PROVIDER_KEY_H_
