// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#ifndef CERTVAULT_CLI_CMD_ENROLL_KEYGEN_H_
#define CERTVAULT_CLI_CMD_ENROLL_KEYGEN_H_

#include <string>
#include <vector>

#include "cli/command_context.h"
#include "cli/est_client.h"

namespace certvault::cli {

// KeygenTarget: where and as whom enroll --server-keygen asks.
struct KeygenTarget {
  EstUrl url;
  std::vector<Bytes> anchors;
  std::string auth;     // HTTP Authorization value (enrollment code) or ""
  EstTls tls;           // the client certificate, if any
  std::string profile;
  std::string label;    // CKA_LABEL of the delivered key and certificate
};

// EnrollServerKeygen: EST serverkeygen into the logged-in vault `t`
// (cmd_enroll_keygen.cc). kFailedPrecondition in user mode (nothing sent);
// the server's refusal as kPermissionDenied; the vault's refusal of the
// package (wrong target, tampered, ...) with nothing changed.
Status EnrollServerKeygen(Context& ctx, OpenedToken& t, const KeygenTarget& target);

}  // namespace certvault::cli

#endif  // CERTVAULT_CLI_CMD_ENROLL_KEYGEN_H_
