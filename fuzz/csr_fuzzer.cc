// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CSR intake (ca/issuance/csr.cc): DER split, PEM armour, public key, the
// signature check, subject and extensionRequest decoding. Invariant: a
// request that parses has a public key and a known key algorithm name.
#include <cstdint>
#include <cstdlib>

#include "ca/issuance/csr.h"
#include "ca/profile/profile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto csr = certvault::ca::ParseCsr({data, size}, 16384);
  if (!csr.ok()) return 0;
  if (csr->public_key == nullptr || csr->spki.empty() || csr->content.key_algorithm.empty()) std::abort();
  certvault::ca::Profile profile;
  profile.subject_allowed = {"CN", "O", "OU", "serialNumber"};
  profile.san_types = {"DNS", "IP", "email", "URI"};
  (void)certvault::ca::CheckAgainstProfile(profile, csr->content);
  return 0;
}
