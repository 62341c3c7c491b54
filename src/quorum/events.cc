// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/quorum/events.h"

#include <memory>

#include "src/audit/audit_key.h"
#include "src/audit/event_log.h"
#include "src/base/status_macros.h"

namespace certvault::quorum {

Status RecordEvent(storage::Store& store, storage::TokenId token, const SecretBytes* token_key, const std::string& role,
                   const std::string& action, const std::string& result, const std::string& detail) {
  std::unique_ptr<audit::AuditSigner> signer;
  if (token_key != nullptr) {
    Result<std::vector<storage::AuditKeyRow>> keys = store.ListAuditKeys(token);
    if (keys.ok() && !keys->empty()) {
      Result<std::unique_ptr<audit::AuditSigner>> opened = audit::AuditSigner::Open(keys->back(), *token_key);
      if (opened.ok()) signer = std::move(*opened);
    }
  }
  audit::Actor actor = audit::SelfActor();
  actor.role = role;
  audit::Event event{action, 0, "", result, detail};
  return audit::AppendEvent(store, token, actor, event, signer.get()).status();
}

std::string ResultName(const Status& status) {
  if (status.ok()) return "ok";
  return std::string(StatusCodeName(status.code()));
}

}  // namespace certvault::quorum
