// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The CA audit chain (docs/formats/ca-audit.md): the hash of each audit
// record and the bytes a checkpoint signs. Pure functions; the database code
// (sql_cert_db_audit.cc) and the verifier (ca/audit/audit_verify.h) share
// them so that writing and checking can never disagree.
#ifndef CERTVAULT_CA_DB_AUDIT_CHAIN_H_
#define CERTVAULT_CA_DB_AUDIT_CHAIN_H_

#include <cstdint>
#include <string>

#include "ca/db/cert_db.h"

namespace certvault::ca {

inline constexpr size_t kAuditHashSize = 32;

// AuditGenesis: the prev_hash of record 1: SHA-256("certvault-ca audit genesis v1").
const Bytes& AuditGenesis();

// AuditRecordHash: SHA-256("certvault-ca audit v1" | seq u64 | at i64 |
// actor | role | source | request_id | action | ca | object | result |
// detail | prev_hash), each string as u32 big-endian length + bytes and
// prev_hash as given. Uses e.seq and e.prev_hash; ignores e.hash.
// Thread-safe. Never fails (aborting on OpenSSL failure is not an option, so
// a failed digest returns an empty vector, which never matches a stored hash).
Bytes AuditRecordHash(const AuditEvent& e);

// AuditCheckpointMessage: what the audit key signs:
// "certvault-ca audit checkpoint v1" | db | seq u64 | at i64 | hash.
// `db` is the database's owner ([ca] name).
Bytes AuditCheckpointMessage(const std::string& db, const AuditCheckpoint& cp);

// RevocationDetail: the detail of a "revoke" record: "reason=R invalidity=T"
// (T = 0: none). The revoked_at time is the record's `at`.
std::string RevocationDetail(int reason, int64_t invalidity_date);

// Hex / FromHex: lower-case hex of bytes; FromHex is empty on bad input.
std::string ToHex(std::span<const uint8_t> bytes);
Bytes FromHex(std::string_view hex);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_DB_AUDIT_CHAIN_H_
