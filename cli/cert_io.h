// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Certificate files and certificate objects for the CLI.
#ifndef CERTVAULT_CLI_CERT_IO_H_
#define CERTVAULT_CLI_CERT_IO_H_

#include <span>
#include <string>
#include <vector>

#include "cli/vault.h"
#include "src/base/result.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::cli {

// ParseCertificates: one DER certificate, or one or more PEM certificates
// (other PEM blocks are skipped). kDataInvalid if none or malformed; at most
// 64 certificates.
Result<std::vector<Bytes>> ParseCertificates(std::span<const uint8_t> file);

// CertificateTemplate: CKO_CERTIFICATE, CKC_X_509, token, CKA_SUBJECT,
// CKA_ISSUER, CKA_SERIAL_NUMBER (DER INTEGER), CKA_VALUE, CKA_ID, CKA_LABEL.
Result<AttributeSet> CertificateTemplate(std::span<const uint8_t> der, std::string_view label, const Bytes& id);

// CertificatePublicKeyInfo: the certificate's DER SubjectPublicKeyInfo.
Result<Bytes> CertificatePublicKeyInfo(std::span<const uint8_t> der);

// CheckAsAsked: the issued certificate `leaf_der` is what the request
// `csr_der` asked for: an end entity (no CA), with the CSR's commonName and
// every subjectAltName it asked for. A CA may add to a request (fixed subject
// attributes, its extensions) but not drop or change what the device named.
// kPermissionDenied naming what is wrong.
Status CheckAsAsked(const Bytes& leaf_der, const Bytes& csr_der);

// CommonNameOf: the subject CN, or "" if absent.
std::string CommonNameOf(std::span<const uint8_t> der);

}  // namespace certvault::cli

#endif  // CERTVAULT_CLI_CERT_IO_H_
