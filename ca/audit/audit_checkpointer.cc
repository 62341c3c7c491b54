// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/audit/audit_checkpointer.h"

#include <syslog.h>

#include <ctime>

#include "ca/audit/audit_verify.h"
#include "ca/db/audit_chain.h"
#include "src/base/status_macros.h"

namespace certvault::ca {

AuditCheckpointer::AuditCheckpointer(CertDb& db, std::string db_name, std::string key_label, CheckpointSigner sign,
                                     int64_t every_records, int64_t every_seconds, bool to_syslog)
    : db_(db),
      db_name_(std::move(db_name)),
      key_label_(std::move(key_label)),
      sign_(std::move(sign)),
      every_records_(every_records),
      every_seconds_(every_seconds),
      to_syslog_(to_syslog) {}

Status AuditCheckpointer::LoadSigned() {
  if (signed_seq_ >= 0) return OkStatus();
  CV_ASSIGN_OR_RETURN(std::vector<AuditCheckpoint> cps, db_.ListCheckpoints());
  signed_seq_ = cps.empty() ? 0 : cps.back().seq;
  signed_at_ = cps.empty() ? static_cast<int64_t>(std::time(nullptr)) : cps.back().at;
  return OkStatus();
}

void AuditCheckpointer::OnAppend(int64_t seq, const Bytes& hash) {
  Status st = LoadSigned();
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  if (st.ok() && (seq - signed_seq_ >= every_records_ || now - signed_at_ >= every_seconds_)) {
    st = Checkpoint(seq, hash);
  }
  if (!st.ok()) last_error_ = st;
}

Status AuditCheckpointer::Flush() {
  // The head is read, not remembered: other connections of this process
  // (the OCSP server's) and other processes append too.
  CV_RETURN_IF_ERROR(LoadSigned());
  CV_ASSIGN_OR_RETURN(AuditChainState state, db_.ReadAuditState());
  if (state.head_seq == 0 || state.head_seq <= signed_seq_) return OkStatus();
  return Checkpoint(state.head_seq, state.head_hash);
}

Status AuditCheckpointer::Checkpoint(int64_t seq, const Bytes& hash) {
  AuditCheckpoint cp;
  cp.seq = seq;
  cp.at = static_cast<int64_t>(std::time(nullptr));
  cp.hash = hash;
  cp.key_label = key_label_;
  CV_ASSIGN_OR_RETURN(cp.signature, sign_(AuditCheckpointMessage(db_name_, cp)));
  CV_RETURN_IF_ERROR(db_.StoreCheckpoint(cp));
  if (to_syslog_) {
    syslog(LOG_NOTICE | LOG_AUTHPRIV, "certvault-ca audit checkpoint %s", CheckpointLine(db_name_, cp).c_str());
  }
  signed_seq_ = seq;
  signed_at_ = cp.at;
  return OkStatus();
}

}  // namespace certvault::ca
