// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// ossl::UniquePtr deleters for the OCSP types the CA uses (ossl_ptr.h style).
#ifndef CERTVAULT_CA_OCSP_OCSP_PTR_H_
#define CERTVAULT_CA_OCSP_OCSP_PTR_H_

#include <openssl/ocsp.h>

#include "src/crypto/ossl_ptr.h"

namespace certvault::ossl {

CV_OSSL_DELETER(OCSP_REQUEST, OCSP_REQUEST_free)
CV_OSSL_DELETER(OCSP_RESPONSE, OCSP_RESPONSE_free)
CV_OSSL_DELETER(OCSP_BASICRESP, OCSP_BASICRESP_free)
CV_OSSL_DELETER(OCSP_CERTID, OCSP_CERTID_free)

}  // namespace certvault::ossl

#endif  // CERTVAULT_CA_OCSP_OCSP_PTR_H_
