// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The identifiers a CA records for a delivery (docs/formats/ca-db.md,
// "Version 6"), shared by `certvault-ca provision` and EST serverkeygen.
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_der.h"
#include "src/crypto/ossl_error.h"
#include "src/provision/provision.h"

namespace certvault::provision {

Result<std::string> DeliveredKeyIdHex(std::span<const uint8_t> cert_der) {
  const unsigned char* p = cert_der.data();
  ossl::UniquePtr<X509> cert(crypto::D2iX509(&p, static_cast<long>(cert_der.size())));  // NOLINT(runtime/int)
  Bytes id(20);
  unsigned int len = 0;
  if (cert == nullptr || X509_pubkey_digest(cert.get(), crypto::DigestByName("SHA1"), id.data(), &len) != 1) {
    return ossl::OpenSslError("X509_pubkey_digest", Reason::kDataInvalid);
  }
  id.resize(len);
  return HexEncode(id);
}

Result<std::string> IdentityKeyHashHex(X509* identity_cert) {
  CV_ASSIGN_OR_RETURN(Bytes spki,
                      (ossl::ToDer<EVP_PKEY, i2d_PUBKEY>(X509_get0_pubkey(identity_cert), "i2d_PUBKEY")));
  CV_ASSIGN_OR_RETURN(Bytes hash, Sha256(spki));
  return HexEncode(hash);
}

}  // namespace certvault::provision
