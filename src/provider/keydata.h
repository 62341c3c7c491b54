// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// KeyData: the provider's key object behind an EVP_PKEY (the KEYMGMT
// "keydata"), and KeyReference: what STORE and DECODER pass to
// OSSL_FUNC_keymgmt_load as an object reference (OSSL_OBJECT_PARAM_REFERENCE
// holds the address of a KeyReference that lives for the callback only).
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

}  // namespace certvault::provider

#endif  // CERTVAULT_PROVIDER_KEYDATA_H_
