// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Events of the quorum verbs in a token's event log (docs/formats/event-log.md).
#ifndef CERTVAULT_QUORUM_EVENTS_H_
#define CERTVAULT_QUORUM_EVENTS_H_

#include <string>

#include "src/base/secret_bytes.h"
#include "src/base/status.h"
#include "src/storage/store.h"

namespace certvault::quorum {

// RecordEvent: appends `action` to token `token`'s log, as `role`, signed by
// the token's newest audit key when `token_key` is given (and opens it),
// else chained only. Joins the caller's transaction if any.
Status RecordEvent(storage::Store& store, storage::TokenId token, const SecretBytes* token_key, const std::string& role,
                   const std::string& action, const std::string& result, const std::string& detail);

// ReasonName: a status as an event result ("ok", or the reason/code name).
std::string ResultName(const Status& status);

}  // namespace certvault::quorum

#endif  // CERTVAULT_QUORUM_EVENTS_H_
