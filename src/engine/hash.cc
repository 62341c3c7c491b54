// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/engine/hash.h"

#include <array>

#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/model/pkcs11_constants.h"

namespace certvault::engine {
namespace {

struct HashDef {
  MechanismType mech;
  const char* name;
  uint64_t mgf;
};

constexpr std::array<HashDef, 9> kHashes = {{
    {CKM_SHA_1, "SHA1", CKG_MGF1_SHA1},
    {CKM_SHA224, "SHA2-224", CKG_MGF1_SHA224},
    {CKM_SHA256, "SHA2-256", CKG_MGF1_SHA256},
    {CKM_SHA384, "SHA2-384", CKG_MGF1_SHA384},
    {CKM_SHA512, "SHA2-512", CKG_MGF1_SHA512},
    {CKM_SHA3_224, "SHA3-224", 0},
    {CKM_SHA3_256, "SHA3-256", 0},
    {CKM_SHA3_384, "SHA3-384", 0},
    {CKM_SHA3_512, "SHA3-512", 0},
}};

// Fetched once (thread-safe static init); EVP_MD objects are immutable.
const std::array<EVP_MD*, kHashes.size()>& FetchedMds() {
  static const std::array<EVP_MD*, kHashes.size()> mds = [] {
    std::array<EVP_MD*, kHashes.size()> out{};
    for (size_t i = 0; i < kHashes.size(); ++i) out[i] = EVP_MD_fetch(crypto::LibCtx(), kHashes[i].name, nullptr);
    return out;
  }();
  return mds;
}

Result<HashInfo> HashAt(size_t i) {
  const EVP_MD* md = FetchedMds()[i];
  if (md == nullptr) return ossl::OpenSslError("EVP_MD_fetch");
  return HashInfo{kHashes[i].mech, md, static_cast<size_t>(EVP_MD_get_size(md))};
}

}  // namespace

Result<HashInfo> HashByMech(MechanismType digest_mech) {
  for (size_t i = 0; i < kHashes.size(); ++i) {
    if (kHashes[i].mech == digest_mech) return HashAt(i);
  }
  return Status(Reason::kMechanismInvalid, "unknown hash mechanism");
}

Result<HashInfo> HashByMgf(uint64_t mgf) {
  for (size_t i = 0; i < kHashes.size(); ++i) {
    if (kHashes[i].mgf != 0 && kHashes[i].mgf == mgf) return HashAt(i);
  }
  return Status(Reason::kMechanismParamInvalid, "unknown MGF");
}

uint64_t MgfForHash(MechanismType digest_mech) {
  for (const HashDef& h : kHashes) {
    if (h.mech == digest_mech) return h.mgf;
  }
  return 0;
}

}  // namespace certvault::engine
