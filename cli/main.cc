// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault: the command-line front end of the vault (docs/cli.md).
#include <openssl/crypto.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <iostream>

#include "cli/commands.h"
#include "src/core/backend.h"
#include "src/crypto/libctx.h"
#include "src/ipc/open_backend.h"

int main(int argc, char** argv) {
  // certvault's crypto runs in its own library context (crypto::LibCtx). The
  // default context is never configured from OPENSSL_CONF either, so the few
  // OpenSSL 3.0 calls with no context argument (PKCS12_parse) cannot reach a
  // provider that a user's configuration prefers.
  (void)OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr);
  // No core dumps and no ptrace by other users' processes: this process may
  // hold PINs, the token key and key components in memory.
  struct rlimit no_core = {0, 0};
  (void)setrlimit(RLIMIT_CORE, &no_core);
  (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // OpenSSL's secure heap: private scalars and RSA private components live in
  // locked memory that is excluded from dumps and cleansed on free. 1 MiB is
  // ample for the few keys one command touches; failure only loses that.
  (void)CRYPTO_secure_malloc_init(1 << 20, 32);
  try {
    // In daemon mode the vault is certvaultd's, wherever it is: name the socket.
    auto describe = [](const certvault::BackendOptions& o) {
      certvault::Result<std::string> socket = certvault::DaemonSocketFor(o);
      return socket.ok() && !socket->empty() ? "certvaultd at " + *socket : certvault::cli::ResolveVaultDir(o.vault_dir);
    };
    int rc = certvault::cli::RunCli(argc, argv, certvault::OpenBackend, std::cout, std::cerr, describe);
    certvault::crypto::ShutdownLibCtx();  // last: nothing of certvault runs after this
    return rc;
  } catch (const std::bad_alloc&) {
    std::cerr << "certvault: error: out of memory\n";
  } catch (const std::exception& e) {
    std::cerr << "certvault: error: internal error: " << e.what() << "\n";
  }
  return 4;  // kExitVault (cli/output.h)
}
