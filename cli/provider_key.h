// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// ProviderKey: a vault-held private key as an EVP_PKEY of certvault's own
// OpenSSL provider, in a library context the CLI creates for it (the
// default provider for everything else). For TLS client authentication
// (`renew`): the key never leaves the vault, libssl signs through the
// provider. The same set-up as `certvault-ca serve`'s server key
// (ca/server/tls_context.cc).
#ifndef CERTVAULT_CLI_PROVIDER_KEY_H_
#define CERTVAULT_CLI_PROVIDER_KEY_H_

#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <string>

#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/crypto/ossl_ptr.h"
#include "src/model/pkcs11_uri.h"

namespace certvault::cli {

class ProviderKey {
 public:
  // Load: loads `module` (certvault.so) into a new library context with
  // `vault_dir` (empty: the provider's default, CERTVAULT_HOME) and opens
  // the private key `uri` (token, object, id) with `pin` given in the store
  // URI's pin-value (in memory only; no file, no environment).
  static Result<std::unique_ptr<ProviderKey>> Load(const std::string& module, const std::optional<std::string>& vault_dir,
                                                   Pkcs11Uri uri, const SecretBytes& pin);
  ~ProviderKey();
  ProviderKey(const ProviderKey&) = delete;
  ProviderKey& operator=(const ProviderKey&) = delete;

  // LoadAnother: a second vault key (`uri`, same `pin`) in this key's
  // library context, e.g. the new key of a key update (CMP kur), whose
  // request the old key protects: OpenSSL signs with both in one context.
  // kFailedPrecondition if the key cannot be opened. The returned key must
  // not outlive this object (it lives in its library context).
  Result<ossl::UniquePtr<EVP_PKEY>> LoadAnother(Pkcs11Uri uri, const SecretBytes& pin) const;

  OSSL_LIB_CTX* libctx() const { return libctx_.get(); }
  EVP_PKEY* key() const { return key_.get(); }

 private:
  ProviderKey() = default;
  Status LoadConfig(const std::string& module, const std::optional<std::string>& vault_dir);
  ossl::UniquePtr<OSSL_LIB_CTX> libctx_;  // declared first: freed after the key made in it
  ossl::UniquePtr<EVP_PKEY> key_;
};

// DefaultProviderModule: where `install` puts certvault.so.
std::string DefaultProviderModule();

}  // namespace certvault::cli

#endif  // CERTVAULT_CLI_PROVIDER_KEY_H_
