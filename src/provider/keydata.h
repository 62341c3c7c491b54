// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// KeyData: the provider's key object behind an EVP_PKEY (the KEYMGMT
// "keydata"), and KeyReference: what STORE and DECODER pass to
// OSSL_FUNC_keymgmt_load as an object reference. OSSL_OBJECT_PARAM_REFERENCE
// holds a RefToken (magic + address of a KeyReference that lives for the
// callback only). The token is deliberately not pointer-sized: the default
// provider's load() takes any pointer-sized reference as its own key
// pointer, and OpenSSL may offer our reference to it.
#ifndef CERTVAULT_PROVIDER_KEYDATA_H_
#define CERTVAULT_PROVIDER_KEYDATA_H_

#include <memory>

#include "src/provider/key.h"
#include "src/provider/provctx.h"

namespace certvault::provider {

struct KeyData {
  ProviderContext* prov = nullptr;
  KeyAlgo algo = KeyAlgo::kEc;
  std::shared_ptr<const VaultKey> key;  // null until loaded or imported
};

struct KeyReference {
  static constexpr uint32_t kMagic = 0x63764b52;  // "cvKR"
  uint32_t magic = kMagic;
  ProviderContext* prov = nullptr;
  std::shared_ptr<const VaultKey> key;
};

struct RefToken {
  uint64_t magic = KeyReference::kMagic;
  uint64_t pad = 0;
  KeyReference* ref = nullptr;
};
static_assert(sizeof(RefToken) != sizeof(void*));

}  // namespace certvault::provider

#endif  // CERTVAULT_PROVIDER_KEYDATA_H_
