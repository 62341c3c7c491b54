// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// AuditCheckpointer: signs the audit chain's head every `every_records`
// records or `every_seconds` seconds (whichever comes first, checked after
// each commit that appended records) and on Flush (the end of a command,
// the shutdown of a server). Each checkpoint is stored in the database and
// written to syslog (journald) as one line, so that a truncated tail is
// found against a copy outside the database (docs/formats/ca-audit.md).
// Thread-safety: OnAppend and Flush are called by the database's user (one
// thread at a time, as CertDb requires).
#ifndef CERTVAULT_CA_AUDIT_AUDIT_CHECKPOINTER_H_
#define CERTVAULT_CA_AUDIT_AUDIT_CHECKPOINTER_H_

#include <functional>
#include <string>

#include "ca/db/cert_db.h"

namespace certvault::ca {

// CheckpointSigner: the audit key's DER ECDSA-SHA256 signature of a message.
using CheckpointSigner = std::function<Result<Bytes>(std::span<const uint8_t> message)>;

class AuditCheckpointer {
 public:
  // `db` is borrowed and must outlive this object.
  AuditCheckpointer(CertDb& db, std::string db_name, std::string key_label, CheckpointSigner sign,
                    int64_t every_records, int64_t every_seconds, bool to_syslog = true);
  // OnAppend: the database observer (CertDb::SetAppendObserver).
  void OnAppend(int64_t seq, const Bytes& hash);
  // Flush: a checkpoint of the newest head unless it has one already.
  Status Flush();
  // last_error: why the last checkpoint failed (OK otherwise).
  const Status& last_error() const { return last_error_; }

 private:
  Status Checkpoint(int64_t seq, const Bytes& hash);
  Status LoadSigned();  // signed_seq_/signed_at_ from the newest stored checkpoint

  CertDb& db_;
  std::string db_name_;
  std::string key_label_;
  CheckpointSigner sign_;
  int64_t every_records_;
  int64_t every_seconds_;
  bool to_syslog_;
  int64_t signed_seq_ = -1;  // -1: not known yet (read on first use)
  int64_t signed_at_ = 0;
  Status last_error_;
};

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_AUDIT_AUDIT_CHECKPOINTER_H_
