// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Vault: the provider's view of the vault, over certvault::Backend (opened
// by OpenProviderBackend, backend_open.cc): finding keys and certificates by
// URI, logging in, and running private-key operations on pooled sessions.
//
// Sessions: one pool of idle sessions per slot; an operation takes one for
// the length of one Backend call sequence (SignInit + Sign), so any number of
// threads sign in parallel, each on its own session.
//
// PINs: a PIN that logged in successfully is kept (SecretBytes, wiped on
// teardown) for this process only, so that the vault state can be rebuilt
// after fork() -- a worker process logs in again without asking. It is never
// written anywhere, never shared with another process or user, and a failed
// PIN is never kept. The vault's retry counter applies to every attempt.
//
// Fork: a pthread_atfork child handler bumps a generation counter. The first
// call in a child sees the new generation, drops (leaks, as the PKCS#11
// module does) the parent's backend, opens a fresh one and logs in again.
// If the child cannot open the vault (typically: permissions after dropping
// privileges), the error names the vault path and the needed access.
//
// Thread-safety: all methods are thread-safe.
#ifndef CERTVAULT_PROVIDER_VAULT_H_
#define CERTVAULT_PROVIDER_VAULT_H_

#include <openssl/types.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/core/backend.h"
#include "src/model/pkcs11_uri.h"
#include "src/provider/key.h"

namespace certvault::provider {

// PinSource: asked for the user PIN when a login is needed and the process
// holds no PIN for the token. kUnauthenticated when there is none.
using PinSource = std::function<Result<SecretBytes>()>;

class Vault {
 public:
  // Vault: `vault_dir` "" = CERTVAULT_HOME / default; `socket` "" = the
  // daemon socket OpenBackend would choose (resolved now), or embedded.
  Vault(std::string vault_dir, std::string socket, OSSL_LIB_CTX* libctx);
  ~Vault();
  Vault(const Vault&) = delete;
  Vault& operator=(const Vault&) = delete;

  // FindKeys: keys matching `uri` (token and object attributes). With
  // `want_private`, private keys (logging in through `pin` if needed); else
  // public-key objects, no login. kNotFound if none matches.
  Result<std::vector<std::shared_ptr<const VaultKey>>> FindKeys(const Pkcs11Uri& uri, bool want_private,
                                                                const PinSource& pin);
  // FindCertificates: DER of the X.509 certificates matching `uri`.
  Result<std::vector<Bytes>> FindCertificates(const Pkcs11Uri& uri);

  // Sign / Decrypt: one single-part operation with the key's private half.
  // `out` receives the raw PKCS#11 output (ECDSA: r||s).
  Status Sign(const VaultKey& key, const Mechanism& mech, std::span<const uint8_t> in, SecureVector* out);
  Status Decrypt(const VaultKey& key, const Mechanism& mech, std::span<const uint8_t> in, SecureVector* out);
  // DeriveEcdh: CKM_ECDH1_DERIVE (CKD_NULL) with `peer_public` (EC point or
  // X25519/X448 u-coordinate): the shared secret, `len` bytes.
  Result<SecretBytes> DeriveEcdh(const VaultKey& key, std::span<const uint8_t> peer_public, size_t len);

  // The fork handlers (registered once per process by the provider).
  static void RegisterForkHandlers();

 private:
  struct State;
  class Lease;
  Result<State*> CurrentState();
  Result<Lease> Acquire(SlotId slot);
  Status LoginLocked(State* state, SlotId slot, const PinSource& pin);
  Status EnsureLogin(SlotId slot, const PinSource& pin);
  // ContextLogin: C_Login(CKU_CONTEXT_SPECIFIC) after the *Init of an
  // operation with an always-authenticate key (OK for other keys).
  Status ContextLogin(Backend& backend, SessionHandle session, const VaultKey& key);
  Result<std::vector<SlotId>> MatchTokens(State* state, const Pkcs11Uri& uri);
  Result<std::shared_ptr<const VaultKey>> ReadKey(Backend& backend, SessionHandle session, SlotId slot,
                                                  ObjectHandle object, bool is_private);
  template <typename Fn>
  Status WithSession(SlotId slot, Fn&& fn);

  const std::string vault_dir_;
  const std::string socket_;  // certvaultd's socket, or "" (embedded)
  OSSL_LIB_CTX* const libctx_;
  std::mutex mu_;                       // guards state_ replacement and pins_
  std::atomic<State*> state_{nullptr};  // the current generation's state
  std::map<SlotId, SecretBytes> pins_;  // GUARDED_BY(mu_)
};

}  // namespace certvault::provider

#endif  // CERTVAULT_PROVIDER_VAULT_H_
