// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Key attestation for profiles with require_attestation (issue 14,
// docs/design/provisioning.md "The CA side of key attestation"): a CSR must
// carry, in attribute cvKeyAttestationChain, a certvault attestation of its
// own key that chains to one of the profile's attestation_roots.
#ifndef CERTVAULT_CA_ISSUANCE_KEY_ATTESTATION_H_
#define CERTVAULT_CA_ISSUANCE_KEY_ATTESTATION_H_

#include <openssl/x509.h>

#include <memory>
#include <string>

#include "ca/issuance/csr.h"
#include "ca/profile/profile.h"
#include "src/base/result.h"

namespace certvault::ca {

// LoadAttestationRoots: a store of the profile's attestation_roots (PEM
// files, each one or more certificates; a relative path is relative to
// `base_dir`). kInvalidArgument names a file that cannot be read or holds no
// certificate. Thread-safe to use for verification once built.
Result<std::shared_ptr<X509_STORE>> LoadAttestationRoots(const Profile& profile, const std::string& base_dir);

// CheckCsrAttestation: kPermissionDenied unless `csr` carries a valid
// attestation of its own key (provision::VerifyKeyAttestation) under `roots`.
Status CheckCsrAttestation(const ParsedCsr& csr, X509_STORE* roots);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_ISSUANCE_KEY_ATTESTATION_H_
