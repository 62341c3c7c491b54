// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// DecodeOcspRequest: the RFC 6960 §4.1 OCSPRequest decoder of the responder
// (d2i_OCSP_REQUEST, full consumption, 1..16 CertIDs). Each CertID is kept
// both as an OpenSSL object and re-encoded (the cache key); the nonce
// extension (RFC 8954: 1..32 octets) is kept to echo. Signed requests are
// accepted and their signature ignored (§4.1.2: optional). kInvalidArgument
// for anything malformed.
#ifndef CERTVAULT_CA_OCSP_OCSP_REQUEST_H_
#define CERTVAULT_CA_OCSP_OCSP_REQUEST_H_

#include <span>
#include <string>
#include <vector>

#include "ca/ocsp/ocsp_ptr.h"
#include "src/base/result.h"

namespace certvault::ca {

struct DecodedOcspRequest {
  ossl::UniquePtr<OCSP_REQUEST> request;  // owns everything below
  std::vector<OCSP_CERTID*> ids;          // borrowed from `request`
  std::vector<std::string> id_keys;       // DER of each CertID
  X509_EXTENSION* nonce = nullptr;        // borrowed; null without a nonce
};

inline constexpr size_t kMaxOcspSingleRequests = 16;

Result<DecodedOcspRequest> DecodeOcspRequest(std::span<const uint8_t> der);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_OCSP_OCSP_REQUEST_H_
