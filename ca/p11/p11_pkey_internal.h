// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Internals shared by p11_pkey.cc (the token side) and p11_provider.cc (the
// OpenSSL provider side) of p11_pkey.h. Not for other users.
#ifndef CERTVAULT_CA_P11_P11_PKEY_INTERNAL_H_
#define CERTVAULT_CA_P11_P11_PKEY_INTERNAL_H_

#include <openssl/core.h>
#include <openssl/err.h>

#include <memory>
#include <mutex>
#include <span>
#include <string_view>

#include "ca/p11/p11_module.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::ca::p11key {

// kProviderName: the built-in provider's name, and its property query.
inline constexpr const char* kProviderName = "cv-p11";
inline constexpr const char* kPropq = "provider=cv-p11";
// kRefParam: the OSSL_PARAM (octet string holding a
// `std::shared_ptr<TokenKey>*`, copied by the import) by which
// OpenP11Key hands a token key to the key manager's import.
inline constexpr const char* kRefParam = "cv-p11-token-key";

enum class KeyType { kEc, kRsa };

// Raise: `message` on OpenSSL's error queue (the provider's way to fail).
inline void Raise(std::string_view message) {
  ERR_raise_data(ERR_LIB_USER, ERR_R_OPERATION_FAIL, "cv-p11: %.*s", static_cast<int>(message.size()), message.data());
}

// Guarded: runs `f` (returning int) for a provider entry point, catching
// everything: nothing throws into libcrypto (0 and an error instead).
template <typename F>
int Guarded(F&& f) {
  try {
    return f();
  } catch (...) {
    Raise("internal error");
    return 0;
  }
}

// TokenKey: one private key object in a logged-in session that it owns.
// Sign runs C_SignInit + C_Sign under mu_. A key with
// CKA_ALWAYS_AUTHENTICATE=TRUE gets C_Login(CKU_CONTEXT_SPECIFIC) with
// `context_pin` between the two (PKCS#11 v3.0 §4.9, §5.5); for other keys
// `context_pin` is empty and no PIN is kept. Thread-safe.
class TokenKey {
 public:
  TokenKey(std::shared_ptr<P11Module> module, CK_SLOT_ID slot, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key,
           KeyType type, ossl::UniquePtr<EVP_PKEY> pub, SecretBytes context_pin)
      : module_(std::move(module)),
        slot_(slot),
        session_(session),
        key_(key),
        type_(type),
        pub_(std::move(pub)),
        context_pin_(std::move(context_pin)) {}
  ~TokenKey() { module_->CloseSession(session_); }
  TokenKey(const TokenKey&) = delete;
  TokenKey& operator=(const TokenKey&) = delete;

  // Sign: C_Sign with `mech` over `input` into `out` (resized to the
  // signature). Status from CheckRv; the operation is always finished.
  Status Sign(const CK_MECHANISM& mech, std::span<const uint8_t> input, Bytes& out);
  KeyType type() const { return type_; }
  EVP_PKEY* pub() const { return pub_.get(); }  // the public half (certvault's LibCtx)

 private:
  // ContextLogin: the context-specific login after C_SignInit. When it
  // fails the signing operation stays active: the session is replaced by a
  // new one (opened first, so the token stays logged in).
  Status ContextLogin();

  std::shared_ptr<P11Module> module_;
  CK_SLOT_ID slot_;
  CK_SESSION_HANDLE session_;  // guarded by mu_
  CK_OBJECT_HANDLE key_;
  KeyType type_;
  ossl::UniquePtr<EVP_PKEY> pub_;
  const SecretBytes context_pin_;
  std::mutex mu_;
};

// TokenKeyOf: the token key of the key manager's key data (null for a
// public key imported for a comparison).
std::shared_ptr<TokenKey> TokenKeyOf(void* keydata);
// PublicKeyOf: its public half (null if it has none).
EVP_PKEY* PublicKeyOf(void* keydata);

// kSignature: the signature implementation (p11_signature.cc).
extern const OSSL_DISPATCH kSignature[];

}  // namespace certvault::ca::p11key

#endif  // CERTVAULT_CA_P11_P11_PKEY_INTERNAL_H_
