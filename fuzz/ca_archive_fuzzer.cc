// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The CA instance archive of `certvault-ca restore` (ca/db/ca_archive.h,
// docs/formats/backup.md). The input is decoded as it is, and again with its
// SHA-256 appended, so that the fuzzer gets past the digest into the entries.
// Invariants: what decodes has plain, distinct names and encodes back to the
// very same bytes.
#include <openssl/evp.h>

#include <cstdint>
#include <cstdlib>
#include <set>

#include "ca/db/ca_archive.h"

namespace {

void Check(const certvault::Bytes& in) {
  auto entries = certvault::ca::DecodeCaArchive(in);
  if (!entries.ok()) return;
  std::set<std::string> names;
  for (const auto& e : *entries) {
    if (!certvault::ca::IsPlainEntryName(e.name) || !names.insert(e.name).second) std::abort();
  }
  uint64_t created = 0;
  for (size_t i = 5; i < 13; ++i) created = created << 8 | in[i];
  auto again = certvault::ca::EncodeCaArchive(*entries, created);
  if (!again.ok() || *again != in) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 20)) return 0;
  certvault::Bytes in(data, data + size);
  Check(in);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(data, size, md, &n, EVP_sha256(), nullptr) != 1) std::abort();
  in.insert(in.end(), md, md + n);
  Check(in);
  return 0;
}
