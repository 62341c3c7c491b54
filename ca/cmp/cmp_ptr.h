// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Deleters for OpenSSL's CMP types (ossl::UniquePtr), as ocsp_ptr.h does for OCSP.
#ifndef CERTVAULT_CA_CMP_CMP_PTR_H_
#define CERTVAULT_CA_CMP_CMP_PTR_H_

#include <openssl/cmp.h>

#include "src/crypto/ossl_ptr.h"

namespace certvault::ossl {

CV_OSSL_DELETER(OSSL_CMP_MSG, OSSL_CMP_MSG_free)
CV_OSSL_DELETER(OSSL_CMP_SRV_CTX, OSSL_CMP_SRV_CTX_free)
CV_OSSL_DELETER(OSSL_CMP_CTX, OSSL_CMP_CTX_free)
CV_OSSL_DELETER(OSSL_CMP_PKISI, OSSL_CMP_PKISI_free)
CV_OSSL_DELETER(OSSL_CMP_ITAV, OSSL_CMP_ITAV_free)

}  // namespace certvault::ossl

#endif  // CERTVAULT_CA_CMP_CMP_PTR_H_
