// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CheckQuorumOp: certvault-ca init and rollover find out by themselves that
// the CA token has a k-of-n quorum (issue 16, docs/design/quorum.md "Knowing
// that a token has a quorum"): a certvault token with a quorum lists the
// vendor mechanism CKM_CV_QUORUM (src/model/vendor_attributes.h). Then the
// CA's new keys must be quorum-protected, so a run without --quorum-op is
// refused, naming the commands that approve one.
#ifndef CERTVAULT_CA_CLI_QUORUM_CHECK_H_
#define CERTVAULT_CA_CLI_QUORUM_CHECK_H_

#include <string_view>

#include "ca/cli/cli.h"

namespace certvault::ca::cli {

// CheckQuorumOp: OkStatus when `args` has --quorum-op, or when the token of
// `config` (already opened by the caller: its module is loaded) has no
// quorum; kPermissionDenied naming `certvault quorum request --token LABEL
// --op create-key` and `certvault-ca VERB --quorum-op ID` otherwise;
// kNotFound if the token is gone.
Status CheckQuorumOp(const CaConfig& config, const Args& args, std::string_view verb);

}  // namespace certvault::ca::cli

#endif  // CERTVAULT_CA_CLI_QUORUM_CHECK_H_
