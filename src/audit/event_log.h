// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Appending to a token's event log (docs/formats/event-log.md).
#ifndef CERTVAULT_AUDIT_EVENT_LOG_H_
#define CERTVAULT_AUDIT_EVENT_LOG_H_

#include <cstdint>
#include <string>

#include "src/audit/audit_key.h"
#include "src/base/result.h"
#include "src/storage/store.h"

namespace certvault::audit {

// Actor: who acted. In embedded mode the process itself; in daemon mode the
// client process, from the connection's SO_PEERCRED.
struct Actor {
  std::string role = "public";  // "so", "user", "public", "context"
  std::string mode = "embedded";
  int64_t uid = -1;
  int64_t pid = -1;
  std::string exe;
};

// Event: what happened.
struct Event {
  std::string action;
  uint64_t target_id = 0;
  std::string target_label;
  std::string result = "ok";
  std::string detail;
};

// Action names used by the vault (the verifier gives kKeyRollover meaning).
inline constexpr char kKeyRollover[] = "audit_key_rollover";

// SelfActor: this process (uid, pid and /proc/self/exe).
Actor SelfActor();

// AppendEvent: appends `event` by `actor` to token `token`'s log in one
// write transaction (joining the caller's, if any): seq = last + 1, prev_hash
// = the last record's hash (or the genesis hash), hash over the record. With
// a `signer` whose number is the token's newest audit key, a checkpoint over
// the new head is signed and stored in the same transaction (an older
// signer -- another process rolled the key over -- signs nothing). Returns
// the stored row.
Result<storage::EventRow> AppendEvent(storage::Store& store, storage::TokenId token, const Actor& actor,
                                      const Event& event, const AuditSigner* signer);

// RolloverDetail: the detail of a kKeyRollover record announcing key
// `key_no` with SubjectPublicKeyInfo `spki`: "key_no=N sha256=HEX".
Result<std::string> RolloverDetail(uint32_t key_no, std::span<const uint8_t> spki);

}  // namespace certvault::audit

#endif  // CERTVAULT_AUDIT_EVENT_LOG_H_
