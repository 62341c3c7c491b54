// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/crypto/libctx.h"

#include <openssl/asn1t.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <cstdlib>
#include <utility>

#include "src/crypto/ossl_error.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::crypto {
namespace {

// MakeLibCtx: a fresh context. OSSL_LIB_CTX_new() reads no configuration file
// (only OSSL_LIB_CTX_load_config would), and explicitly loading the built-in
// provider turns off the automatic fall-back load, so this context holds
// exactly the default provider whatever the environment says. Not "base":
// the default provider has all of its encoders and decoders already, and a
// second copy of them doubles the work of every OSSL_DECODER/OSSL_ENCODER
// context OpenSSL 3.0 builds, which is every certificate parsed (its key is
// decoded) and every key serialized: twice the cost per provisioning package.
OSSL_LIB_CTX* g_made_ctx = nullptr;  // set once, by MakeLibCtx
OSSL_PROVIDER* g_default_provider = nullptr;  // unloaded by ShutdownLibCtx

// StopThisThread: frees this thread's per-context state of our context (its
// public and private DRBGs). OpenSSL frees it when a thread stops, but the
// process's main thread never stops for a context other than the default one
// (OPENSSL_cleanup runs OPENSSL_thread_stop for the default context only), so
// without this the DRBGs of every process would be leaked at exit. Registered
// with atexit after OpenSSL's own handler, so it runs first; in a loaded
// module glibc runs it at dlclose (__cxa_atexit with the module's handle).
void StopThisThread() {
  if (g_made_ctx != nullptr) OPENSSL_thread_stop_ex(g_made_ctx);
}

OSSL_LIB_CTX* MakeLibCtx() {
  OSSL_LIB_CTX* ctx = OSSL_LIB_CTX_new();
  if (ctx == nullptr) return nullptr;
  g_made_ctx = ctx;
  (void)std::atexit(StopThisThread);
  // Built into libcrypto (no module file is read). It stays loaded for the
  // context's (unbounded) life. Should it fail to load, fetches fail with an
  // OpenSSL error where they are made; the failure is not left on this
  // thread's error queue for an unrelated caller.
  g_default_provider = OSSL_PROVIDER_load(ctx, "default");
  if (g_default_provider == nullptr) ossl::ClearErrors();
  return ctx;
}

constexpr std::array<int, 10> kDigestNids = {NID_sha1,     NID_sha224,   NID_sha256,   NID_sha384,   NID_sha512,
                                            NID_sha3_224, NID_sha3_256, NID_sha3_384, NID_sha3_512, NID_sha512_256};

// Digests: the fetched digests of kDigestNids, in that order (nullptr where
// the fetch failed). Fetched once; never freed.
const std::array<EVP_MD*, kDigestNids.size()>& Digests() {
  static const std::array<EVP_MD*, kDigestNids.size()> table = [] {
    std::array<EVP_MD*, kDigestNids.size()> out{};
    for (size_t i = 0; i < kDigestNids.size(); ++i) {
      out[i] = EVP_MD_fetch(LibCtx(), OBJ_nid2sn(kDigestNids[i]), kPropq);
    }
    return out;
  }();
  return table;
}

}  // namespace

const EVP_MD* DigestByNid(int nid) {
  for (size_t i = 0; i < kDigestNids.size(); ++i) {
    if (kDigestNids[i] == nid) return Digests()[i];
  }
  return nullptr;
}

const EVP_MD* DigestByName(const char* name) {
  if (name == nullptr) return nullptr;
  int nid = OBJ_sn2nid(name);
  if (nid == NID_undef) nid = OBJ_ln2nid(name);
  if (nid == NID_undef) nid = OBJ_txt2nid(name);
  return DigestByNid(nid);
}

// FillExtensionCache: fills a new certificate's extension cache in this
// thread. OpenSSL 3.0 fills it on first use, under the certificate's lock,
// while threads that already use the certificate read the cached fields
// without it: TSan reported that race when two OCSP threads first verified
// with a shared CA certificate. The purpose check's result is not needed.
namespace {
void FillExtensionCache(X509* cert) {
  X509_check_purpose(cert, -1, 0);
  ERR_clear_error();
}
}  // namespace

X509* D2iX509(const unsigned char** in, long len) {  // NOLINT(runtime/int)
  // X509_new_ex + d2i into it keeps the context (OpenSSL 3.0 decodes the
  // certificate's key in the object's context and verifies there).
  X509* raw = X509_new_ex(LibCtx(), kPropq);
  if (raw == nullptr) return nullptr;
  // On error d2i frees the object and clears `raw`; the holder frees what is left.
  X509* out = d2i_X509(&raw, in, len);
  ossl::UniquePtr<X509> holder(raw);
  if (out == nullptr) return nullptr;
  FillExtensionCache(out);
  return holder.release();  // owned by the caller
}

X509_REQ* D2iX509Req(const unsigned char** in, long len) {  // NOLINT(runtime/int)
  // OpenSSL 3.0's d2i_X509_REQ into an X509_REQ_new_ex object still decodes
  // the key in the default context; the _ex item decoder does not.
  return reinterpret_cast<X509_REQ*>(
      ASN1_item_d2i_ex(nullptr, in, len, ASN1_ITEM_rptr(X509_REQ), LibCtx(), kPropq));
}

EVP_PKEY* D2iPubkey(const unsigned char** in, long len) {  // NOLINT(runtime/int)
  return d2i_PUBKEY_ex(nullptr, in, len, LibCtx(), kPropq);
}

X509* PemReadX509(BIO* bio) {
  X509* raw = X509_new_ex(LibCtx(), kPropq);
  if (raw == nullptr) return nullptr;
  X509* out = PEM_read_bio_X509(bio, &raw, nullptr, nullptr);
  ossl::UniquePtr<X509> holder(raw);  // frees it when reading failed
  if (out == nullptr) return nullptr;
  FillExtensionCache(out);
  return holder.release();  // owned by the caller
}

OSSL_LIB_CTX* LibCtx() {
  // A function-local static: initialized once, thread-safe (C++11 §6.7).
  static OSSL_LIB_CTX* const ctx = MakeLibCtx();
  return ctx;
}

void ShutdownLibCtx() {
  OSSL_LIB_CTX* ctx = g_made_ctx;
  if (ctx == nullptr) return;
  OPENSSL_thread_stop_ex(ctx);
  g_made_ctx = nullptr;
  if (g_default_provider != nullptr) (void)OSSL_PROVIDER_unload(g_default_provider);
  g_default_provider = nullptr;
  OSSL_LIB_CTX_free(ctx);
}

const char* KeyType(const char* name) {
  static constexpr std::pair<const char*, const char*> kOids[] = {
      {"EC", "1.2.840.10045.2.1"},          {"RSA", "1.2.840.113549.1.1.1"}, {"RSA-PSS", "1.2.840.113549.1.1.10"},
      {"ED25519", "1.3.101.112"},           {"ED448", "1.3.101.113"},        {"X25519", "1.3.101.110"},
      {"X448", "1.3.101.111"},
  };
  for (const auto& [short_name, oid] : kOids) {
    if (OPENSSL_strcasecmp(name, short_name) == 0) return oid;
  }
  return name;
}

EVP_PKEY_CTX* NewPkeyCtx(const char* name) { return EVP_PKEY_CTX_new_from_name(LibCtx(), KeyType(name), kPropq); }

}  // namespace certvault::crypto
