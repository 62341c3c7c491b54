// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// GenerateCrl: a full or delta CRL of one CA (and one partition), numbered,
// built, stored (cached DER in the crls table) and audited in one database
// transaction. A full CRL lists every revocation whose certificate has not
// expired; a delta lists the revocations after its base, the newest full CRL
// (RFC 5280 §5.2.4). With partitions > 1 each partition gets its own CRL with
// an issuingDistributionPoint "<crl_url>-p<N>" (kept unpartitioned otherwise).
#ifndef CERTVAULT_CA_CRL_CRL_SERVICE_H_
#define CERTVAULT_CA_CRL_CRL_SERVICE_H_

#include <ctime>
#include <functional>

#include "ca/db/cert_db.h"
#include "ca/p11/ca_key.h"

namespace certvault::ca {

struct CrlRequest {
  std::string ca;         // database CA name
  X509* issuer = nullptr; // its certificate
  bool delta = false;
  uint32_t partition = 0;
  uint32_t partitions = 1;
  uint32_t next_update_hours = 168;
  std::string crl_url;    // for the partition's distribution point
  std::string delta_crl_url;  // freshestCRL of full CRLs
  time_t now = 0;         // 0 = time(nullptr)
  // before_sign: when set, runs with the allocated cRLNumber before the CRL
  // is signed; an error stops it (nothing is stored). The instance checks
  // here that the number is above every number signed before (CaState).
  std::function<Status(int64_t number)> before_sign;
};

// GenerateCrl: kFailedPrecondition for a delta without a full base CRL.
Result<CrlRecord> GenerateCrl(CertDb& db, CaKey& key, const CrlRequest& req, const AuditActor& actor);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_CRL_CRL_SERVICE_H_
