// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// BuildCrl: an X.509 v2 CRL (RFC 5280 §5) signed by the CA key in the token.
// The revoked-certificate list is written directly as DER (DerWriter), one
// pass over the entries, because OpenSSL's X509_CRL object model costs several
// allocations per entry and a CRL may have a million. The small, fixed parts
// (AlgorithmIdentifier, issuer Name, the CRL extensions) are encoded by
// OpenSSL. The signature is verified over the TBS with the CA public key.
#ifndef CERTVAULT_CA_CRL_CRL_BUILDER_H_
#define CERTVAULT_CA_CRL_CRL_BUILDER_H_

#include <ctime>
#include <span>
#include <string>

#include "ca/db/cert_db.h"
#include "ca/p11/ca_key.h"

namespace certvault::ca {

struct CrlSpec {
  X509* issuer = nullptr;  // the CA certificate (borrowed)
  int64_t number = 0;      // cRLNumber
  bool delta = false;      // deltaCRLIndicator with base_number
  int64_t base_number = 0;
  time_t this_update = 0;
  time_t next_update = 0;
  std::string distribution_point;  // non-empty: a critical issuingDistributionPoint
  std::string freshest_crl;        // full CRLs: where the delta CRLs are (RFC 5280 §5.2.6)
  std::span<const RevokedEntry> entries;
};

// BuildCrl: kInvalidArgument for a malformed serial in `entries`; signer errors.
Result<Bytes> BuildCrl(const CrlSpec& spec, CaKey& key);

// AlgorithmIdentifierDer: the DER AlgorithmIdentifier of `alg`.
Result<Bytes> AlgorithmIdentifierDer(x509::SignatureAlgorithm alg);
// SignToBitString: signs `tbs` with `key`; returns the DER BIT STRING with
// the signature (ECDSA converted to DER), verified with the public key.
Result<Bytes> SignToBitString(std::span<const uint8_t> tbs, CaKey& key);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_CRL_CRL_BUILDER_H_
