// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/audit/event_log.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "src/audit/event_chain.h"
#include "src/base/status_macros.h"

namespace certvault::audit {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// SignHead: a checkpoint over `row` if `signer` is the token's newest key.
Status SignHead(storage::Store& store, const storage::EventRow& row, const AuditSigner& signer) {
  CV_ASSIGN_OR_RETURN(std::vector<storage::AuditKeyRow> keys, store.ListAuditKeys(row.token_id));
  if (keys.empty() || keys.back().key_no != signer.key_no()) return OkStatus();
  storage::CheckpointRow cp{row.token_id, row.seq, row.time_ms, signer.key_no(), row.hash, {}};
  CV_ASSIGN_OR_RETURN(cp.signature, signer.Sign(CheckpointMessage(cp)));
  return store.InsertCheckpoint(cp);
}

}  // namespace

Actor SelfActor() {
  Actor a;
  a.uid = static_cast<int64_t>(getuid());
  a.pid = static_cast<int64_t>(getpid());
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) a.exe = exe.string();
  return a;
}

Result<storage::EventRow> AppendEvent(storage::Store& store, storage::TokenId token, const Actor& actor,
                                      const Event& event, const AuditSigner* signer) {
  storage::EventRow row;
  row.token_id = token;
  row.time_ms = NowMs();
  row.role = actor.role;
  row.mode = actor.mode;
  row.peer_uid = actor.uid;
  row.peer_pid = actor.pid;
  row.peer_exe = actor.exe;
  row.action = event.action;
  row.target_id = event.target_id;
  row.target_label = event.target_label;
  row.result = event.result;
  row.detail = event.detail;
  CV_RETURN_IF_ERROR(store.RunExclusive([&]() -> Status {
    Result<storage::EventRow> last = store.LastEvent(token);
    if (last.ok()) {
      row.seq = last->seq + 1;
      row.prev_hash = last->hash;
    } else if (last.status().code() == StatusCode::kNotFound) {
      row.seq = 1;
      CV_ASSIGN_OR_RETURN(row.prev_hash, GenesisHash(token));
    } else {
      return last.status();
    }
    CV_ASSIGN_OR_RETURN(row.hash, EventHash(row));
    CV_RETURN_IF_ERROR(store.InsertEvent(row));
    return signer != nullptr ? SignHead(store, row, *signer) : OkStatus();
  }));
  return row;
}

Result<std::string> RolloverDetail(uint32_t key_no, std::span<const uint8_t> spki) {
  CV_ASSIGN_OR_RETURN(std::string fpr, KeyFingerprint(spki));
  return "key_no=" + std::to_string(key_no) + " sha256=" + fpr;
}

}  // namespace certvault::audit
