// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Internal helpers of CaInstance shared by init (ca_init.cc) and rollover
// (ca_rollover.cc): the CA certificates' profiles and their assembly.
#ifndef CERTVAULT_CA_INSTANCE_CA_BUILD_H_
#define CERTVAULT_CA_INSTANCE_CA_BUILD_H_

#include <string>
#include <vector>

#include "ca/config/ca_config.h"
#include "ca/issuance/cert_builder.h"

namespace certvault::ca::internal {

// CaProfile: a CA certificate (keyCertSign, cRLSign; path_len -1: none).
Profile CaProfile(const std::string& name, uint32_t days, int path_len);
// OcspSignerProfile: the delegated OCSP signer's profile (ca_init.cc).
Profile OcspSignerProfile(const CaConfig& config);

struct Built {
  Bytes der;
  std::string subject;
};

// Build / BuildFor: a certificate from `tmpl` for `subject_key`, signed (and
// verified) with `signer`, for a subject given as "/CN=../O=.." or entries.
Result<Built> Build(const CertTemplate& tmpl, const std::string& subject, CaKey& subject_key, CaKey& signer);
Result<Built> BuildFor(const CertTemplate& tmpl, std::vector<SubjectEntry> entries, CaKey& subject_key, CaKey& signer);
// WritePem: `der` as PEM `label`, written atomically.
Status WritePem(const std::string& path, const Bytes& der, const char* label);

}  // namespace certvault::ca::internal

#endif  // CERTVAULT_CA_INSTANCE_CA_BUILD_H_
