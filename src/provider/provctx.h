// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// ProviderContext: everything one loaded instance of the provider owns: the
// core's upcalls, its configuration (openssl.cnf section), the private
// OSSL_LIB_CTX for software work (hashing, public-key operations, the
// embedded core's own crypto), and the Vault. Created by OSSL_provider_init,
// destroyed by the teardown function. Thread-safe after construction.
#ifndef CERTVAULT_PROVIDER_PROVCTX_H_
#define CERTVAULT_PROVIDER_PROVCTX_H_

#include <openssl/core.h>
#include <openssl/core_dispatch.h>

#include <memory>
#include <string>

#include "src/base/status.h"
#include "src/provider/errors.h"
#include "src/provider/vault.h"

namespace certvault::provider {

// ProviderConfig: the provider's openssl.cnf keys (docs/design/provider.md).
struct ProviderConfig {
  std::string vault_dir;     // "vault": the vault directory ("" = CERTVAULT_HOME/default)
  std::string pin_file;      // "pin-file": first line is the user PIN
  std::string pin_env;       // "pin-env": name of an environment variable holding the PIN
  std::string socket;        // "socket": certvaultd's socket ("" = CERTVAULT_SOCKET / config / embedded)
  bool claim_pkcs11 = false;  // "claim-pkcs11-uris": also load pkcs11: URIs
};

struct CoreUpcalls {
  OSSL_FUNC_core_get_params_fn* get_params = nullptr;
  OSSL_FUNC_core_new_error_fn* new_error = nullptr;
  OSSL_FUNC_core_set_error_debug_fn* set_error_debug = nullptr;
  OSSL_FUNC_core_vset_error_fn* vset_error = nullptr;
  OSSL_FUNC_BIO_read_ex_fn* bio_read_ex = nullptr;
};

class ProviderContext {
 public:
  ProviderContext(const OSSL_CORE_HANDLE* handle, const CoreUpcalls& core, ProviderConfig config, OSSL_LIB_CTX* libctx);
  ~ProviderContext();
  ProviderContext(const ProviderContext&) = delete;
  ProviderContext& operator=(const ProviderContext&) = delete;

  const ProviderConfig& config() const { return config_; }
  const CoreUpcalls& core() const { return core_; }
  // libctx: certvault's own context (crypto::LibCtx()). Never freed.
  OSSL_LIB_CTX* libctx() const { return libctx_; }
  Vault& vault() { return *vault_; }

  // Raise: puts `status` on the application's error queue as `reason`
  // (ToProviderReason(status) if kDoNotUse) with the status message.
  void Raise(const Status& status, const char* func, ProviderReason reason = ProviderReason::kDoNotUse) const;
  void RaiseText(ProviderReason reason, const char* func, const char* text) const;

 private:
  const OSSL_CORE_HANDLE* handle_;
  CoreUpcalls core_;
  ProviderConfig config_;
  OSSL_LIB_CTX* libctx_;  // crypto::LibCtx(), not owned
  std::unique_ptr<Vault> vault_;
};

// CV_RAISE(ctx, status): Raise with the calling function's name.
#define CV_RAISE(ctx, status) (ctx)->Raise((status), __func__)

}  // namespace certvault::provider

#endif  // CERTVAULT_PROVIDER_PROVCTX_H_
