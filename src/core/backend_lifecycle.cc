// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EmbeddedBackend: key lifecycle transitions (lifecycle.h, SP 800-57 Part 1
// §7). Kept apart from the attribute paths so that every transition passes
// through CommitTransition, the one place that will also write it to the
// vault's event log.
#include <string>

#include "src/base/status_macros.h"
#include "src/core/embedded_backend.h"
#include "src/core/event_recorder.h"
#include "src/core/lifecycle.h"

namespace certvault::core {

Status EmbeddedBackend::CommitTransition(Session& s, const Object& key, const AttributeSet& changes) {
  {
    std::shared_lock<std::shared_mutex> lock(s.runtime->mu);
    if (s.runtime->login != UserType::kUser) {
      return Status(Reason::kUserNotLoggedIn, "a key state transition needs the user logged in");
    }
  }
  CV_ASSIGN_OR_RETURN(lifecycle::Transition t, lifecycle::PlanTransition(key.attrs, changes, lifecycle::NowSeconds()));
  auto updated = std::make_shared<Object>(key);
  updated->version = key.version + 1;
  lifecycle::ApplyTransition(t, &updated->attrs);
  if (t.to == lifecycle::KeyState::kDestroyed) {
    // §7.6: the key material is gone; the record (attributes, public parts,
    // state) stays. Sealed values are dropped from the record that replaces
    // the old one; a session key's clear secrets are wiped on release.
    updated->sealed.clear();
    updated->secrets = AttributeSet();
  }
  // The C_SetAttributeValue event is appended in the same transaction as the
  // new record (docs/formats/event-log.md); it names the transition.
  std::string detail = std::string(lifecycle::StateName(t.from)) + " -> " + std::string(lifecycle::StateName(t.to));
  if (!t.reason.empty()) detail += " reason: " + t.reason;
  RenamePendingEvent("key_state", std::move(detail));
  return PersistUpdate(s, key, std::move(updated));
}

}  // namespace certvault::core
