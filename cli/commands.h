// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The certvault command line: verbs, their options, and the driver that maps
// every outcome to an exit code (docs/cli.md). The CLI reaches the vault only
// through certvault::Backend, obtained from `open_backend` (the embedded
// backend in main.cc; a daemon client later; a fake in tests).
#ifndef CERTVAULT_CLI_COMMANDS_H_
#define CERTVAULT_CLI_COMMANDS_H_

#include <functional>
#include <memory>
#include <ostream>

#include "src/base/result.h"
#include "src/core/backend.h"

namespace certvault::cli {

using BackendOpener = std::function<Result<std::unique_ptr<Backend>>(const BackendOptions&)>;
// VaultDescriber: where the opened vault is, for display ("vault:" lines).
using VaultDescriber = std::function<std::string(const BackendOptions&)>;

// RunCli: parses argv, runs the verb and returns the process exit code.
// Results go to `out`; errors ("certvault: error: ...") and hints to `err`.
// `describe` names the vault in output (default: ResolveVaultDir).
int RunCli(int argc, char** argv, const BackendOpener& open_backend, std::ostream& out, std::ostream& err,
           const VaultDescriber& describe = nullptr);

// ResolveVaultDir: --vault, else CERTVAULT_HOME, else $XDG_DATA_HOME/certvault,
// else $HOME/.local/share/certvault (for display; the core resolves the same).
std::string ResolveVaultDir(const std::string& flag);

}  // namespace certvault::cli

#endif  // CERTVAULT_CLI_COMMANDS_H_
