// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault: the command-line front end of the vault (docs/cli.md).
#include <sys/resource.h>

#include <iostream>

#include "cli/commands.h"
#include "src/core/backend.h"

int main(int argc, char** argv) {
  // No core dumps: the process may hold PINs and key components in memory.
  struct rlimit no_core = {0, 0};
  (void)setrlimit(RLIMIT_CORE, &no_core);
  try {
    return certvault::cli::RunCli(argc, argv, certvault::OpenEmbeddedBackend, std::cout, std::cerr);
  } catch (const std::bad_alloc&) {
    std::cerr << "certvault: error: out of memory\n";
  } catch (const std::exception& e) {
    std::cerr << "certvault: error: internal error: " << e.what() << "\n";
  }
  return 4;  // kExitVault (cli/output.h)
}
