// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/cli/quorum_check.h"

#include "ca/p11/p11_module.h"
#include "src/base/status_macros.h"
#include "src/model/vendor_attributes.h"

namespace certvault::ca::cli {

Status CheckQuorumOp(const CaConfig& config, const Args& args, std::string_view verb) {
  if (args.Has("quorum-op")) return OkStatus();  // the token checks the approval itself
  // P11Module::Load shares the module the instance already loaded (one per path).
  CV_ASSIGN_OR_RETURN(std::shared_ptr<P11Module> module, P11Module::Load(config.token.module));
  CV_ASSIGN_OR_RETURN(CK_SLOT_ID slot, module->FindTokenSlot(config.token.label));
  CK_MECHANISM_INFO info{};
  const CK_RV rv = module->fn()->C_GetMechanismInfo(slot, static_cast<CK_MECHANISM_TYPE>(kCkmCvQuorum), &info);
  // Only a token that lists it has a quorum: CKR_MECHANISM_INVALID (or any
  // other answer of a module that does not know it) means none.
  if (rv != CKR_OK) return OkStatus();
  const std::string label = config.token.label;
  return PermissionDeniedError(
      "the CA token '" + label + "' has a " + std::to_string(info.ulMinKeySize) + "-of-" +
      std::to_string(info.ulMaxKeySize) +
      " quorum: its CA keys are made quorum-protected, under an approved create-key operation. Request one with "
      "`certvault quorum request --token " +
      label + " --op create-key` (SO PIN), have " + std::to_string(info.ulMinKeySize) +
      " custodians approve it (`certvault quorum approve --op ID --custodian DIR`), "
      "then run `certvault-ca " +
      std::string(verb) + " --quorum-op ID`");
}

}  // namespace certvault::ca::cli
