// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Hash functions by PKCS#11 mechanism code: the EVP_MD, fetched once per
// process, and the MGF1 / KDF codes that name them. Private to src/engine.
#ifndef CERTVAULT_ENGINE_HASH_H_
#define CERTVAULT_ENGINE_HASH_H_

#include <openssl/evp.h>

#include <cstddef>

#include "src/base/result.h"
#include "src/model/types.h"

namespace certvault::engine {

struct HashInfo {
  MechanismType digest_mech;  // CKM_SHA256 ...
  const EVP_MD* md;           // shared, never freed by callers
  size_t size;                // output bytes
};

// HashByMech: CKM_SHA_1, CKM_SHA224..512, CKM_SHA3_224..512.
// kMechanismInvalid if unknown; kFunctionFailed if OpenSSL cannot fetch it.
Result<HashInfo> HashByMech(MechanismType digest_mech);
// HashByMgf: CKG_MGF1_SHA1..SHA512 -> the hash. kMechanismParamInvalid if unknown.
Result<HashInfo> HashByMgf(uint64_t mgf);
// MgfForHash: the CKG_MGF1_* code matching a digest mechanism (0 if none).
uint64_t MgfForHash(MechanismType digest_mech);

}  // namespace certvault::engine

#endif  // CERTVAULT_ENGINE_HASH_H_
