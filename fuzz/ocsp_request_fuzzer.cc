// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The OCSP responder's request decoder (ca/ocsp/ocsp_request.cc).
// Invariant: a decoded request has 1..16 CertIDs, each with its DER key.
#include <cstdint>
#include <cstdlib>

#include "ca/ocsp/ocsp_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto req = certvault::ca::DecodeOcspRequest({data, size});
  if (!req.ok()) return 0;
  if (req->ids.empty() || req->ids.size() > certvault::ca::kMaxOcspSingleRequests ||
      req->ids.size() != req->id_keys.size()) {
    std::abort();
  }
  for (const auto& key : req->id_keys) {
    if (key.empty()) std::abort();
  }
  return 0;
}
