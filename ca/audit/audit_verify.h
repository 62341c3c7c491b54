// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// VerifyAuditChain: checks the CA audit chain (docs/formats/ca-audit.md) and
// names the first broken link: an edited record (its hash does not
// recompute), a deleted one (a gap in seq), an inserted or reordered one
// (prev_hash does not link), a truncated tail (the records end before the
// head, a stored checkpoint or the external checkpoint), a forged checkpoint
// (its signature does not verify under the audit key) or a chain rewritten
// under a checkpoint (the record at its seq has another hash).
// CheckRevocationsAgainstAudit: the revocations table and the revoked
// certificate rows of a CA are exactly what its "revoke" records say.
#ifndef CERTVAULT_CA_AUDIT_AUDIT_VERIFY_H_
#define CERTVAULT_CA_AUDIT_AUDIT_VERIFY_H_

#include <openssl/evp.h>

#include <map>
#include <optional>
#include <string>

#include "ca/db/cert_db.h"

namespace certvault::ca {

struct AuditVerifyOptions {
  std::string db_name;                      // [ca] name: part of what checkpoints sign
  EVP_PKEY* audit_key = nullptr;            // borrowed; nullptr: checkpoint signatures are not checked
  // external: --from-checkpoint (a copy from syslog/journald): it must verify,
  // and the chain must reach it with the same hash (a truncated tail whose
  // stored checkpoints were deleted too is found against it).
  std::optional<AuditCheckpoint> external;
};

// RevokeFact: what a "revoke" record states about one serial.
struct RevokeFact {
  int64_t revoked_at = 0;
  int reason = 0;
  int64_t invalidity_date = 0;
};

struct AuditVerifyReport {
  bool ok = true;
  int64_t first_bad_seq = 0;  // 0 when ok or not tied to one record
  std::string problem;        // the first broken link, one line
  int64_t records = 0;        // chained records checked
  int64_t checkpoints = 0;    // checkpoints checked
  int64_t last_seq = 0;
  int64_t legacy_rows = 0;    // rows from before the chain (not covered)
  // Filled by the walk: (ca, serial) -> the revoke record's facts.
  std::map<std::pair<std::string, std::string>, RevokeFact> revocations;
};

// VerifyAuditChain: fails only when the database cannot be read; a broken
// chain is a report with ok = false.
Result<AuditVerifyReport> VerifyAuditChain(CertDb& db, const AuditVerifyOptions& options);

// CheckRevocationsAgainstAudit: kDataLoss naming the first serial whose
// revocations row or certificate status differs from the verified `report`
// (deleted, altered or added behind the CA's back). REQUIRES: report.ok.
Status CheckRevocationsAgainstAudit(CertDb& db, const std::string& ca, const AuditVerifyReport& report);

// ParseCheckpointLine: a checkpoint as written to syslog / the journal
// ("... ca=NAME seq=N at=T hash=HEX key=LABEL sig=HEX"); kInvalidArgument
// when a field is missing or malformed.
Result<AuditCheckpoint> ParseCheckpointLine(std::string_view line, std::string* out_db = nullptr);
std::string CheckpointLine(const std::string& db, const AuditCheckpoint& cp);

// VerifyCheckpointSignature: kSignatureInvalid unless cp.signature is the
// audit key's ECDSA-SHA256 (DER) over AuditCheckpointMessage(db, cp).
Status VerifyCheckpointSignature(EVP_PKEY* key, const std::string& db, const AuditCheckpoint& cp);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_AUDIT_AUDIT_VERIFY_H_
