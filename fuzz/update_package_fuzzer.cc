// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The provisioning parsers (src/provision, docs/formats/update-package.md),
// one target with a selector byte (CI time is short):
//   0 UpdateRequest SignedData    1 UpdatePackage SignedData (fixed authority)
//   2 UpdateReceipt SignedData    3 AuthEnvelopedData + UpdateContent (open)
//   4 cvKeyAttestationChain (CSR attribute) decoded and verified (fixed root)
// Invariants: nothing crashes or leaks; a request that verifies carries a
// nonce of 16..64 bytes; a package that verifies names a target.
#include <cstdint>
#include <cstdlib>

#include "src/crypto/libctx.h"
#include "src/provision/provision.h"
#include "src/provision/test_util.h"

namespace {

using certvault::provision::testing::MakeCert;
using certvault::provision::testing::NewP256;

struct Keys {
  certvault::ossl::UniquePtr<EVP_PKEY> authority_key = NewP256();
  certvault::ossl::UniquePtr<X509> authority = MakeCert(authority_key.get(), "fuzz authority");
  certvault::ossl::UniquePtr<EVP_PKEY> transport = NewP256();
};

const Keys& TheKeys() {
  static const Keys* keys = new Keys();
  return *keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace pv = certvault::provision;
  if (size < 1) return 0;
  std::span<const uint8_t> in(data + 1, size - 1);
  switch (data[0] & 7) {
    case 0: {
      auto r = pv::VerifyUpdateRequest(in, nullptr);
      if (r.ok() && (r->request.nonce.size() < 16 || r->request.nonce.size() > 64)) std::abort();
      break;
    }
    case 1: {
      auto p = pv::VerifyUpdatePackage(in, TheKeys().authority.get());
      if (p.ok() && p->header.target_serial.empty()) std::abort();
      break;
    }
    case 2:
      (void)pv::VerifyUpdateReceipt(in, nullptr);
      break;
    case 4: {
      auto chain = pv::DecodeAttestationChain(in);
      if (chain.ok()) {
        certvault::ossl::UniquePtr<X509_STORE> roots(X509_STORE_new());
        X509_STORE_add_cert(roots.get(), TheKeys().authority.get());
        (void)pv::VerifyKeyAttestation(*chain, TheKeys().transport.get(), roots.get());
      }
      break;
    }
    case 3: {
      pv::VerifiedPackage p;
      p.enveloped.assign(in.begin(), in.end());
      (void)pv::OpenUpdatePackage(p, TheKeys().transport.get());
      break;
    }
    default:
      break;
  }
  return 0;
}
