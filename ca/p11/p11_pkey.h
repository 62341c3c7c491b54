// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// P11 keys as OpenSSL EVP_PKEYs: a private key held in any PKCS#11 module
// (SoftHSM2, a hardware token, certvault's own module) used by libssl, CMS
// and X.509 code as if it were an ordinary key, while every private
// operation is a C_Sign in the token. Debian 12 has no pkcs11-provider, and
// ENGINE / EC_KEY_METHOD are deprecated, so this is done the OpenSSL 3 way: a
// small built-in provider ("cv-p11", P11Context) in a library context of
// the caller (never OpenSSL's default one) with
//   - a key manager for EC (P-256, P-384, P-521) and RSA whose key data is
//     the token key plus its public half (read from the public key object,
//     or else from the certificate of the same label). It exports only the
//     public half and imports public keys, so that X509_check_private_key,
//     SSL_CTX_use_PrivateKey and CMS_add1_signer can compare keys;
//   - a signature implementation: OpenSSL computes the digest, the token
//     signs it: ECDSA by CKM_ECDSA (r||s, turned into DER), RSA by
//     CKM_RSA_PKCS over the DigestInfo (PKCS#1 v1.5) or CKM_RSA_PKCS_PSS
//     (RSASSA-PSS; TLS 1.3 needs it for RSA keys).
// The default provider must be loaded in the same context for the rest
// (digests, verification, TLS). docs/design/roles.md, "Keys in another
// PKCS#11 module".
//
// Thread-safety: a key may be used from several threads; its token session
// is used under a lock (a PKCS#11 session is single-threaded).
#ifndef CERTVAULT_CA_P11_P11_PKEY_H_
#define CERTVAULT_CA_P11_P11_PKEY_H_

#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::ca {

// P11Uri: the parts of an RFC 7512 PKCS#11 URI that name a key.
struct P11Uri {
  std::string token;   // token= (the token label), required
  std::string object;  // object= (CKA_LABEL), "" = any
  Bytes id;            // id= (CKA_ID), empty = any
};

// ParseP11Uri: "pkcs11:token=T;object=L[;id=%01%02][;type=private]" with
// RFC 7512 §2.3 percent-encoding. kInvalidArgument for another scheme, a
// query part (a PIN belongs in a file, never in a command line), a missing
// token, a URI naming neither object nor id, or an attribute other than
// token, object, id and type (a narrower URI than we honour would otherwise
// silently match a key it does not name).
Result<P11Uri> ParseP11Uri(std::string_view uri);

// ReadPinFile: the first line of `path` as a PIN, by the rules of every
// certvault PIN file (src/provider/pin_file.h): kFailedPrecondition when the
// file is accessible to group or others (chmod 600); the PIN is never part
// of a message.
Result<SecretBytes> ReadPinFile(const std::string& path);

// P11Context: a library context of its own (never OpenSSL's default one)
// with the default provider and the built-in cv-p11 provider loaded. The
// destructor unloads both, then frees the context: every key made in it
// (OpenP11Key) must be freed before. Thread-safe once made.
class P11Context {
 public:
  // Create: kInternal when OpenSSL cannot make the context or load either
  // provider.
  static Result<std::unique_ptr<P11Context>> Create();
  ~P11Context();
  P11Context(const P11Context&) = delete;
  P11Context& operator=(const P11Context&) = delete;

  OSSL_LIB_CTX* get() const { return libctx_.get(); }

 private:
  P11Context() = default;
  ossl::UniquePtr<OSSL_LIB_CTX> libctx_;
  OSSL_PROVIDER* default_ = nullptr;  // unloaded by the destructor
  OSSL_PROVIDER* p11_ = nullptr;      // unloaded by the destructor
};

// P11Key: a token key and, when the token holds one with the key's label,
// its certificate (else null).
struct P11Key {
  ossl::UniquePtr<EVP_PKEY> key;
  ossl::UniquePtr<X509> cert;
};

// P11LibCtx: a process-wide P11Context, made at the first call and never
// freed (keys made in it may live until exit), for programs that need one
// key and no context of their own. kInternal when OpenSSL cannot make it.
// Thread-safe.
Result<OSSL_LIB_CTX*> P11LibCtx();

// OpenP11Key: loads the PKCS#11 module `module_path` (shared with the rest
// of the process, see P11Module), finds the token of `uri`, logs in with
// `pin` and returns its private key as an EVP_PKEY of `libctx` (REQUIRES:
// the context of a P11Context). The session stays open (and logged in) as
// long as the key lives; `pin` is not retained. Errors: kNotFound (module,
// token, or no private key matching the URI), kPermissionDenied (wrong or
// locked PIN), kFailedPrecondition (more than one key matches; no public key
// object nor certificate to take the public half from), kUnimplemented (a
// key type other than EC and RSA).
Result<P11Key> OpenP11Key(OSSL_LIB_CTX* libctx, const std::string& module_path, const P11Uri& uri,
                          const SecretBytes& pin);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_P11_P11_PKEY_H_
