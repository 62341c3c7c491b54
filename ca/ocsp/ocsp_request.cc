// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/ocsp/ocsp_request.h"

#include "src/crypto/ossl_error.h"

namespace certvault::ca {

Result<DecodedOcspRequest> DecodeOcspRequest(std::span<const uint8_t> der) {
  DecodedOcspRequest out;
  const uint8_t* p = der.data();
  out.request.reset(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  if (out.request == nullptr || p != der.data() + der.size()) {
    ossl::ClearErrors();
    return InvalidArgumentError("malformed OCSP request");
  }
  int n = OCSP_request_onereq_count(out.request.get());
  if (n < 1 || static_cast<size_t>(n) > kMaxOcspSingleRequests) {
    return InvalidArgumentError("OCSP request must ask about 1..16 certificates");
  }
  for (int i = 0; i < n; ++i) {
    OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(out.request.get(), i));
    int len = id != nullptr ? i2d_OCSP_CERTID(id, nullptr) : -1;
    if (len <= 0) {
      ossl::ClearErrors();
      return InvalidArgumentError("malformed CertID in OCSP request");
    }
    std::string key(static_cast<size_t>(len), '\0');
    auto* q = reinterpret_cast<unsigned char*>(key.data());
    i2d_OCSP_CERTID(id, &q);
    out.ids.push_back(id);
    out.id_keys.push_back(std::move(key));
  }
  int idx = OCSP_REQUEST_get_ext_by_NID(out.request.get(), NID_id_pkix_OCSP_Nonce, -1);
  if (idx >= 0) {
    if (OCSP_REQUEST_get_ext_by_NID(out.request.get(), NID_id_pkix_OCSP_Nonce, idx) >= 0) {
      return InvalidArgumentError("OCSP request has two nonces");
    }
    out.nonce = OCSP_REQUEST_get_ext(out.request.get(), idx);
    const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(out.nonce);
    // RFC 8954 §2.1: the nonce is 1 to 32 octets (its OCTET STRING wrapper included here).
    if (value == nullptr || ASN1_STRING_length(value) < 1 || ASN1_STRING_length(value) > 34) {
      return InvalidArgumentError("OCSP nonce must be 1..32 octets");
    }
  }
  ossl::ClearErrors();
  return out;
}

}  // namespace certvault::ca
