// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// VerifyLog: checks a token's event log end to end (docs/formats/event-log.md,
// "Verification") and names the first broken link.
#ifndef CERTVAULT_AUDIT_VERIFY_H_
#define CERTVAULT_AUDIT_VERIFY_H_

#include <optional>
#include <string>
#include <vector>

#include "src/base/result.h"
#include "src/storage/store.h"

namespace certvault::audit {

struct VerifyOptions {
  // trusted_key: the hex SHA-256 of an audit public key the operator noted
  // before (e.g. at init); it must be one of the token's valid keys.
  // Without it, key 1 is trusted as found in the file.
  std::optional<std::string> trusted_key;
  // expect_seq/expect_head: a checkpoint the operator copied out of the
  // vault earlier: the log must still hold record expect_seq with this hash
  // (catches a tail truncated together with its signed checkpoints).
  std::optional<uint64_t> expect_seq;
  Bytes expect_head;
};

struct VerifyReport {
  bool ok = true;
  uint64_t records = 0;
  uint64_t checkpoints = 0;
  uint64_t first_bad_seq = 0;    // the record (or checkpoint) where the first problem is; 0 if ok
  std::string problem;           // what is wrong there
  uint64_t last_signed_seq = 0;  // highest seq covered by a valid checkpoint
  Bytes last_signed_head;
  std::vector<std::string> key_fingerprints;  // of keys 1..n
};

// VerifyLog: reads token `token`'s records, checkpoints and audit keys from
// one store and checks: seq numbering without gaps, every record's hash and
// its link to the previous one, every checkpoint's head, key and signature,
// each key after the first announced by a rollover record that the previous
// key signed, and that no checkpoint lies past the end of the log. Problems
// are reported in `VerifyReport` (ok = false); the Status fails only when the
// store cannot be read.
Result<VerifyReport> VerifyLog(storage::Store& store, storage::TokenId token, const VerifyOptions& options);

}  // namespace certvault::audit

#endif  // CERTVAULT_AUDIT_VERIFY_H_
