// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EmbeddedBackend: the two hooks the maintenance verbs (src/quorum/) need.
#include "src/base/status_macros.h"
#include "src/core/embedded_backend.h"

namespace certvault::core {

Result<SecretBytes> EmbeddedBackend::UnlockTokenKey(storage::TokenId token, UserType user, const SecretBytes& pin) {
  if (user != UserType::kSo && user != UserType::kUser) return Status(Reason::kUserTypeInvalid, "bad user type");
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  CV_RETURN_IF_ERROR(clock_.Check());
  bool must_change = false;
  PinCheckLock::Guard serialized(pin_lock_);
  CV_ASSIGN_OR_RETURN(SecretBytes key, VerifyPin(*store, token, user, pin, &must_change));
  if (must_change) return Status(Reason::kPinExpired, "the PIN must be changed first (certvault change-pin)");
  // The token record must verify under this key, as at C_Login.
  CV_ASSIGN_OR_RETURN(SecretBytes ik, DeriveIntegrityKey(key));
  storage::TokenRow verified;
  CV_ASSIGN_OR_RETURN(LoginCheck check, CheckTokenAtLogin(*store, token, ik, &verified));
  if (check.damaged.any()) return Status(Reason::kCorruptStore, "objects of the token fail their integrity check");
  return key;
}

Result<storage::Store*> EmbeddedBackend::MaintenanceStore() { return Store(); }

}  // namespace certvault::core
