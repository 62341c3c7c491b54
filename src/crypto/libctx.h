// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// LibCtx: the one OSSL_LIB_CTX every certvault crypto call uses, in every
// program (certvault, certvaultd, certvault-ca) and in both loadable modules.
//
// It is certvault's own context, not OpenSSL's default one: created once, with
// only the providers certvault loads itself (default + base), never reading an
// OpenSSL configuration file (OPENSSL_CONF) and with no default properties. In
// embedded mode the module runs inside an application whose configuration may
// activate another provider and prefer it (`default_properties =
// ?provider=pkcs11`); if certvault's own key parsing ran there it would call
// that provider, which may call back into certvault (docs/threat-model.md,
// "Host OpenSSL configuration"). Every OpenSSL call in src/, daemon/, cli/
// and ca/ passes LibCtx() (the _ex / _from_* / fetch forms).
#ifndef CERTVAULT_CRYPTO_LIBCTX_H_
#define CERTVAULT_CRYPTO_LIBCTX_H_

#include <openssl/types.h>
#include <openssl/x509.h>

namespace certvault::crypto {

// LibCtx: certvault's library context, created on first use (thread-safe).
// Never freed: objects made in it (keys, fetched algorithms) may be held by
// the application past any teardown of ours. nullptr only if OpenSSL could
// not allocate a context at the first call (out of memory at start-up).
OSSL_LIB_CTX* LibCtx();

// kPropq: the property query of every certvault fetch. nullptr: the context
// has no default properties, so this picks the providers loaded above.
inline constexpr const char* kPropq = nullptr;

// DigestByNid / DigestByName: the digest fetched from LibCtx(), for APIs that
// take a `const EVP_MD*` (EVP_Digest, OCSP_cert_to_id, X509_pubkey_digest).
// The legacy EVP_sha256() & co. would be fetched implicitly from the default
// context at each use. SHA-1, SHA-2 and SHA-3 are fetched once and kept for
// the life of the process; nullptr for any other digest. Thread-safe.
// ShutdownLibCtx: frees the context (and this thread's state in it) at the
// very end of a program, when no thread will use certvault again: LibCtx()
// must not be called afterwards. Programs that initialize the OpenSSL secure
// heap call it last in main(): the context's primary DRBG lives in the secure
// heap, which LeakSanitizer does not scan, so the DRBG's own allocations would
// otherwise be reported as leaked by the sanitizer builds. Never called by the
// loaded module or provider (the host application owns the process's exit).
void ShutdownLibCtx();

// KeyType: the name under which certvault asks its own context for a key
// type ("EC", "RSA", "RSA-PSS", "ED25519", "ED448", "X25519", "X448"; any
// other name is returned unchanged). OpenSSL 3.0 looks a key type given by
// its short name up among the process's ENGINEs (ENGINE_get_pkey_meth_engine
// in EVP_PKEY_CTX_new_from_name, new_raw_key_int) before any provider, in
// every library context: an application that makes an engine the default for
// EC or RSA (`openssl -engine pkcs11`, libp11) would otherwise receive
// certvault's own key operations. The OID form has no NID name, so that
// lookup is skipped and the key manager is fetched from LibCtx(), where the
// default provider registers each type under its OID too.
const char* KeyType(const char* name);
// NewPkeyCtx: EVP_PKEY_CTX_new_from_name(LibCtx(), KeyType(name), kPropq).
EVP_PKEY_CTX* NewPkeyCtx(const char* name);

const EVP_MD* DigestByNid(int nid);
const EVP_MD* DigestByName(const char* name);

// D2iX509 / D2iX509Req / D2iPubkey: d2i_X509 / d2i_X509_REQ / d2i_PUBKEY bound
// to LibCtx(): the object's public key is decoded there, and later
// X509_verify / X509_REQ_verify_ex on it fetch there too. Same contract as
// the d2i functions (advance *in; the caller owns the result; nullptr on
// error with the error queue set). A certificate returned by D2iX509 or
// PemReadX509 has its extension cache filled, so threads may share it.
X509* D2iX509(const unsigned char** in, long len);          // NOLINT(runtime/int)
X509_REQ* D2iX509Req(const unsigned char** in, long len);   // NOLINT(runtime/int)
EVP_PKEY* D2iPubkey(const unsigned char** in, long len);    // NOLINT(runtime/int)
// PemReadX509: PEM_read_bio_X509 into an X509_new_ex object of LibCtx().
X509* PemReadX509(BIO* bio);

}  // namespace certvault::crypto

#endif  // CERTVAULT_CRYPTO_LIBCTX_H_
