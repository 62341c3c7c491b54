// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CaToken / CaKey: the CA's signing keys in a PKCS#11 token. CaToken opens a
// token by label and logs in once; CaKey is one key pair (found by CKA_LABEL)
// that signs to-be-signed DER:
//   ECDSA: SHA-256/384 digest computed here with OpenSSL, C_Sign(CKM_ECDSA)
//          returns r||s, which x509::RawEcdsaToDer turns into DER.
//   RSA:   C_Sign(CKM_SHA256_RSA_PKCS) over the TBS bytes, or with RSA-PSS
//          C_Sign(CKM_SHA256_RSA_PKCS_PSS, SHA-256 / MGF1-SHA-256 / salt 32).
// A private key with CKA_ALWAYS_AUTHENTICATE=TRUE (read once, by OpenKey)
// needs C_Login(CKU_CONTEXT_SPECIFIC, PIN) between each C_SignInit and its
// C_Sign (PKCS#11 v3.0 §4.9 and §5.5); CaKey does it with the token's PIN.
// Other keys sign exactly as before, with no extra call.
// Thread-safety: CaKey::Sign may be called from many threads at once; each
// call borrows a session from a pool (a PKCS#11 session is single-threaded).
#ifndef CERTVAULT_CA_P11_CA_KEY_H_
#define CERTVAULT_CA_P11_CA_KEY_H_

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "ca/p11/p11_module.h"
#include "src/crypto/x509_build.h"

namespace certvault::ca {

// KeyAlgorithm: CA key types. Names in ca.toml: "ec-p256", "ec-p384",
// "rsa-2048", "rsa-3072", "rsa-4096".
enum class KeyAlgorithm { kEcP256, kEcP384, kRsa2048, kRsa3072, kRsa4096 };
Result<KeyAlgorithm> ParseKeyAlgorithm(std::string_view name);
std::string_view KeyAlgorithmName(KeyAlgorithm alg);
// SignatureAlgorithmFor: the CA's signature algorithm for its key type and
// ca.toml's signature_algorithm: "" (the key's default: ECDSA with the
// curve's hash, PKCS#1 v1.5 for RSA), "ecdsa", "rsa-pkcs1" or "rsa-pss"
// (RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt). kInvalidArgument for an
// unknown name or one that does not fit the key type.
Result<x509::SignatureAlgorithm> SignatureAlgorithmFor(KeyAlgorithm key, std::string_view name);

class CaKey;

class CaToken {
 public:
  // Open: loads `module_path`, finds the token `label` and logs in with `pin`.
  // A copy of `pin` stays in wiped memory (SecretBytes) for the
  // context-specific login that keys with CKA_ALWAYS_AUTHENTICATE need before
  // each signature (see CaKey). kNotFound / kPermissionDenied / kInternal.
  static Result<std::unique_ptr<CaToken>> Open(const std::string& module_path, std::string_view label,
                                               const SecretBytes& pin);
  ~CaToken();
  // GenerateKeyPair: a new token key pair labelled `label` (private: sensitive,
  // never extractable, sign only). kAlreadyExists if the label is taken.
  // With `quorum_op` (the id of a create-key operation approved by the
  // token's quorum), the pair is quorum-protected (CKA_CV_QUORUM_OP, a
  // certvault vendor attribute; docs/design/quorum.md): no PKCS#11 call can
  // destroy it afterwards. Other modules refuse the attribute.
  Status GenerateKeyPair(const std::string& label, KeyAlgorithm alg, const std::string& quorum_op = "");
  // OpenKey: the key pair labelled `label` (kNotFound when absent).
  Result<std::unique_ptr<CaKey>> OpenKey(const std::string& label);
  // DestroyKeyPair: destroys the private and public key labelled `label`
  // (what is not there is skipped). The key never signs again.
  Status DestroyKeyPair(const std::string& label);
  // DataObjects: the token data objects of one label, handle and CKA_VALUE.
  struct DataObjects {
    std::vector<CK_OBJECT_HANDLE> handles;
    std::vector<Bytes> values;
  };
  // ReadDataObjects: every private token data object (CKO_DATA) labelled
  // `label`: none, one, or more after an interrupted WriteData or writers in
  // several processes sharing the token. An object destroyed by another
  // process while it is read makes the read start again.
  Result<DataObjects> ReadDataObjects(const std::string& label);
  // ReadData: the values of ReadDataObjects.
  Result<std::vector<Bytes>> ReadData(const std::string& label);
  // WriteData: a new object holding `value` (CKA_TOKEN, CKA_PRIVATE,
  // application "certvault-ca") replaces the objects `replaces` (handles
  // from ReadDataObjects whose values the caller merged into `value`): it is
  // created first, then only those are destroyed. An object another process
  // wrote meanwhile stays for the next reader to merge; one it already
  // destroyed is skipped. Not thread-safe: one caller at a time per process.
  Status WriteData(const std::string& label, std::span<const uint8_t> value,
                   std::span<const CK_OBJECT_HANDLE> replaces);

 private:
  friend class CaKey;
  CaToken(std::shared_ptr<P11Module> module, CK_SLOT_ID slot, CK_SESSION_HANDLE session, SecretBytes pin)
      : module_(std::move(module)), slot_(slot), login_session_(session), pin_(std::move(pin)) {}
  Result<CK_OBJECT_HANDLE> FindObject(CK_SESSION_HANDLE session, CK_OBJECT_CLASS cls, const std::string& label);

  std::shared_ptr<P11Module> module_;
  CK_SLOT_ID slot_;
  CK_SESSION_HANDLE login_session_;  // kept open: the login lasts while a session is open
  const SecretBytes pin_;            // the user PIN, for CKU_CONTEXT_SPECIFIC logins only
};

class CaKey {
 public:
  ~CaKey();
  // Sign: the raw token signature over `tbs` (see the header comment).
  Result<Bytes> Sign(std::span<const uint8_t> tbs);
  // Signer: Sign as an x509::Signer (the object must outlive it).
  x509::Signer AsSigner() {
    return [this](std::span<const uint8_t> tbs) { return Sign(tbs); };
  }
  // SignVerified: Sign, then Verify, hashing `tbs` once for ECDSA (a CRL's
  // TBS may be 50 MB).
  Result<Bytes> SignVerified(std::span<const uint8_t> tbs);
  // Verify: kSignatureInvalid unless `raw_sig` (as Sign returned it) is a
  // valid signature over `tbs` under this key's public half. A token fault
  // never leaves the CA. Uses pooled, pre-initialized verify contexts.
  Status Verify(std::span<const uint8_t> tbs, std::span<const uint8_t> raw_sig);
  x509::SignatureAlgorithm algorithm() const { return algorithm_; }
  // UseSignatureAlgorithm: sign with `alg` from now on (RSA keys: PKCS#1
  // v1.5 or PSS; EC keys: their default only). kKeyTypeInconsistent
  // otherwise. REQUIRES: no Sign/Verify running concurrently.
  Status UseSignatureAlgorithm(x509::SignatureAlgorithm alg);
  // public_key_info: DER SubjectPublicKeyInfo read from the token.
  const Bytes& public_key_info() const { return spki_; }
  EVP_PKEY* public_key() const { return pkey_.get(); }

 private:
  friend class CaToken;
  CaKey(CaToken* token, CK_OBJECT_HANDLE key) : token_(token), key_(key) {}
  Result<CK_SESSION_HANDLE> Acquire();
  // Digest: SHA-256/384 of `tbs` for the key's algorithm.
  Result<Bytes> Digest(std::span<const uint8_t> tbs) const;
  Result<Bytes> TokenSign(CK_MECHANISM_TYPE mech, std::span<const uint8_t> input);
  // ContextLogin: C_Login(CKU_CONTEXT_SPECIFIC) on `session` with the PIN.
  Status ContextLogin(CK_SESSION_HANDLE session) const;
  // Discard: closes a borrowed session that may hold an unfinished operation.
  void Discard(CK_SESSION_HANDLE session);
  Status VerifyDigest(std::span<const uint8_t> digest, std::span<const uint8_t> raw_sig);
  Status InitVerify(EVP_PKEY_CTX* ctx) const;
  void Release(CK_SESSION_HANDLE session);

  CaToken* token_;
  CK_OBJECT_HANDLE key_;
  bool always_authenticate_ = false;  // CKA_ALWAYS_AUTHENTICATE, read once by OpenKey
  x509::SignatureAlgorithm algorithm_ = x509::SignatureAlgorithm::kEcdsaSha256;
  Bytes spki_;
  ossl::UniquePtr<EVP_PKEY> pkey_;
  std::mutex mu_;
  std::vector<CK_SESSION_HANDLE> free_sessions_;  // guarded by mu_
  std::vector<CK_SESSION_HANDLE> all_sessions_;   // guarded by mu_
  std::vector<ossl::UniquePtr<EVP_PKEY_CTX>> verify_ctxs_;  // guarded by mu_
};

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_P11_CA_KEY_H_
