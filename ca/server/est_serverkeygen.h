// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EST serverkeygen (RFC 7030 §4.4) for certvault vaults (issue 14,
// docs/design/provisioning.md "Online: EST serverkeygen"): the CA generates
// the key, issues its certificate under the profile and returns the key
// inside the same update package as the file flow (SignedData by the
// provisioning authority over AuthEnvelopedData to the vault's transport
// key), so it is in the clear only in this process's memory and inside the
// target vault. The CSR carries the vault's signed UpdateRequest as
// attribute cvUpdateRequest (arc.1.1); its own key only signs the CSR.
// The authority is read per request from the instance directory:
// provisioning/authority.pem and provisioning/authority.key (a key file) or
// provisioning/authority.uri (one line: an OSSL_STORE URI, e.g. pkcs11:);
// provisioning/identity-roots.pem, when present, is where the vault identity
// must chain. Thread-safe.
#ifndef CERTVAULT_CA_SERVER_EST_SERVERKEYGEN_H_
#define CERTVAULT_CA_SERVER_EST_SERVERKEYGEN_H_

#include <mutex>
#include <string>

#include "ca/config/ca_config.h"
#include "ca/db/cert_db.h"
#include "ca/server/issue_queue.h"

namespace certvault::ca {

struct KeygenDeps {
  const CaConfig* ca = nullptr;
  std::string ca_name;
  X509* issuing = nullptr;   // borrowed
  IssueQueue* queue = nullptr;
  CertDb* db = nullptr;      // guarded by *db_mu
  std::mutex* db_mu = nullptr;
};

// ServerKeygenConfigured: whether the instance has a provisioning authority
// (provisioning/authority.pem); without one serverkeygen answers 501 before
// any authentication.
bool ServerKeygenConfigured(const CaConfig& ca);

// KeygenAnswer: the RFC 7030 §4.4.2 multipart/mixed answer.
struct KeygenAnswer {
  std::string content_type;  // multipart/mixed; boundary=...
  std::string body;
  std::string serial;        // of the issued certificate
};

// ServerKeygen: verifies the request in `csr` (DER), issues the certificate
// under `profile` (as `item`'s actor and source) and records the delivery
// (provision_deliveries, with its audit record) before answering.
// kUnimplemented: no provisioning authority configured; kInvalidArgument:
// malformed CSR or update request; kPermissionDenied / the Issuer's codes: a
// refused request. Nothing is recorded unless it returns OK.
Result<KeygenAnswer> ServerKeygen(const KeygenDeps& deps, std::span<const uint8_t> csr, const std::string& profile,
                                  IssueItem item);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_SERVER_EST_SERVERKEYGEN_H_
