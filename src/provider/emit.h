// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EmitKey: hands a vault key to OpenSSL as an object reference
// (provider-object(7)), as STORE loaders and DECODERs do. The core calls the
// KEYMGMT's load() with the reference inside `cb`.
#ifndef CERTVAULT_PROVIDER_EMIT_H_
#define CERTVAULT_PROVIDER_EMIT_H_

#include <openssl/core.h>
#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/params.h>

#include "src/provider/keydata.h"

namespace certvault::provider {

inline int EmitKey(ProviderContext* prov, const std::shared_ptr<const VaultKey>& key, OSSL_CALLBACK* cb, void* cbarg) {
  KeyReference ref;
  ref.prov = prov;
  ref.key = key;
  RefToken token;
  token.ref = &ref;
  int type = OSSL_OBJECT_PKEY;
  std::string name(KeyAlgoName(key->algo));
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &type),
      OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DATA_TYPE, name.data(), 0),
      OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_REFERENCE, &token, sizeof(token)),
      OSSL_PARAM_construct_end(),
  };
  return cb(params, cbarg);
}

}  // namespace certvault::provider

#endif  // CERTVAULT_PROVIDER_EMIT_H_
