// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The OpenSSL side of p11_pkey.h: the built-in provider "cv-p11", its key
// manager (EC and RSA key data = a TokenKey, or a public key imported for a
// comparison) and its signature implementation (the digest by OpenSSL, the
// signature by C_Sign). Each entry point catches everything: nothing throws
// into libcrypto, and errors are raised on OpenSSL's error queue.
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>

#include <array>
#include <cstring>
#include <string>

#include "ca/p11/p11_pkey.h"
#include "ca/p11/p11_pkey_internal.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"

namespace certvault::ca::p11key {
namespace {

// KeyData: the key manager's key: a token key, or (imported from another
// provider's key for a comparison) only a public key.
struct KeyData {
  explicit KeyData(KeyType t) : type(t) {}
  KeyType type;
  std::shared_ptr<TokenKey> token;
  ossl::UniquePtr<EVP_PKEY> pub;
  EVP_PKEY* Pub() const { return token != nullptr ? token->pub() : pub.get(); }
};

// ---- key manager -----------------------------------------------------------

template <KeyType T>
void* KmNew(void*) {
  return new (std::nothrow) KeyData(T);
}

void KmFree(void* kd) { delete static_cast<KeyData*>(kd); }

int KmHas(const void* p, int selection) {
  const auto* kd = static_cast<const KeyData*>(p);
  if (kd == nullptr) return 0;
  if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0 && kd->token == nullptr) return 0;
  if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0 && kd->Pub() == nullptr) return 0;
  return 1;
}

int KmMatch(const void* a, const void* b, int selection) {
  const auto* ka = static_cast<const KeyData*>(a);
  const auto* kb = static_cast<const KeyData*>(b);
  if (ka->Pub() == nullptr || kb->Pub() == nullptr) return 0;
  if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0) return EVP_PKEY_parameters_eq(ka->Pub(), kb->Pub()) == 1;
  return EVP_PKEY_eq(ka->Pub(), kb->Pub()) == 1;
}

// ImportPublic: another provider's key, public half only, as a key of
// certvault's context (the private half of a software key is not taken).
int ImportPublic(KeyData* kd, const OSSL_PARAM params[]) {
  ossl::UniquePtr<EVP_PKEY_CTX> ctx(crypto::NewPkeyCtx(kd->type == KeyType::kEc ? "EC" : "RSA"));
  EVP_PKEY* raw = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(params)) <= 0) {
    return 0;
  }
  kd->pub.reset(raw);
  return 1;
}

int KmImport(void* p, int, const OSSL_PARAM params[]) {
  return Guarded([&] {
    auto* kd = static_cast<KeyData*>(p);
    const OSSL_PARAM* ref = OSSL_PARAM_locate_const(params, kRefParam);
    if (ref == nullptr) return ImportPublic(kd, params);
    std::shared_ptr<TokenKey>* token = nullptr;
    if (ref->data_type != OSSL_PARAM_OCTET_STRING || ref->data_size != sizeof(token)) return 0;
    std::memcpy(&token, ref->data, sizeof(token));
    if (token == nullptr || *token == nullptr || (*token)->type() != kd->type) return 0;
    kd->token = *token;
    return 1;
  });
}

template <KeyType T>
const OSSL_PARAM* KmImportTypes(int) {
  static const OSSL_PARAM kEc[] = {OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, nullptr, 0),
                                   OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0),
                                   OSSL_PARAM_octet_string(kRefParam, nullptr, 0), OSSL_PARAM_END};
  static const OSSL_PARAM kRsa[] = {OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, nullptr, 0),
                                    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, nullptr, 0),
                                    OSSL_PARAM_octet_string(kRefParam, nullptr, 0), OSSL_PARAM_END};
  return T == KeyType::kEc ? kEc : kRsa;
}

// KmExport: the public half only. The private key stays in its token, so an
// export that asks for it fails: OpenSSL then signs through this provider
// instead of a copy in another one (evp_pkey_signature_init, 2nd iteration).
int KmExport(void* p, int selection, OSSL_CALLBACK* cb, void* cbarg) {
  return Guarded([&] {
    auto* kd = static_cast<KeyData*>(p);
    if (kd->Pub() == nullptr) return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0 && kd->token != nullptr) return 0;
    return EVP_PKEY_export(kd->Pub(), selection & ~OSSL_KEYMGMT_SELECT_PRIVATE_KEY, cb, cbarg) == 1 ? 1 : 0;
  });
}

template <KeyType T>
const OSSL_PARAM* KmExportTypes(int selection) {
  return KmImportTypes<T>(selection);
}

int KmGetParams(void* p, OSSL_PARAM params[]) {
  auto* kd = static_cast<KeyData*>(p);
  return kd->Pub() != nullptr && EVP_PKEY_get_params(kd->Pub(), params) == 1 ? 1 : 0;
}

template <KeyType T>
const OSSL_PARAM* KmGettableParams(void*) {
  static const OSSL_PARAM kCommon[] = {OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, nullptr),
                                       OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, nullptr),
                                       OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, nullptr),
                                       OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, nullptr, 0),
                                       OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, nullptr, 0),
                                       OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, nullptr, 0),
                                       OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0),
                                       OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, nullptr, 0),
                                       OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, nullptr, 0),
                                       OSSL_PARAM_END};
  return kCommon;
}

template <KeyType T>
const char* KmOperationName(int operation_id) {
  if (operation_id != OSSL_OP_SIGNATURE) return nullptr;
  return T == KeyType::kEc ? "ECDSA" : "RSA";
}

using Fn = void (*)(void);

template <KeyType T>
const OSSL_DISPATCH kKeymgmt[] = {{OSSL_FUNC_KEYMGMT_NEW, reinterpret_cast<Fn>(KmNew<T>)},
                                  {OSSL_FUNC_KEYMGMT_FREE, reinterpret_cast<Fn>(KmFree)},
                                  {OSSL_FUNC_KEYMGMT_HAS, reinterpret_cast<Fn>(KmHas)},
                                  {OSSL_FUNC_KEYMGMT_MATCH, reinterpret_cast<Fn>(KmMatch)},
                                  {OSSL_FUNC_KEYMGMT_IMPORT, reinterpret_cast<Fn>(KmImport)},
                                  {OSSL_FUNC_KEYMGMT_IMPORT_TYPES, reinterpret_cast<Fn>(KmImportTypes<T>)},
                                  {OSSL_FUNC_KEYMGMT_EXPORT, reinterpret_cast<Fn>(KmExport)},
                                  {OSSL_FUNC_KEYMGMT_EXPORT_TYPES, reinterpret_cast<Fn>(KmExportTypes<T>)},
                                  {OSSL_FUNC_KEYMGMT_GET_PARAMS, reinterpret_cast<Fn>(KmGetParams)},
                                  {OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, reinterpret_cast<Fn>(KmGettableParams<T>)},
                                  {OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, reinterpret_cast<Fn>(KmOperationName<T>)},
                                  {0, nullptr}};

}  // namespace

std::shared_ptr<TokenKey> TokenKeyOf(void* keydata) {
  return keydata != nullptr ? static_cast<KeyData*>(keydata)->token : nullptr;
}

EVP_PKEY* PublicKeyOf(void* keydata) { return keydata != nullptr ? static_cast<KeyData*>(keydata)->Pub() : nullptr; }

namespace {

const OSSL_ALGORITHM kKeymgmtAlgs[] = {
    {"EC:id-ecPublicKey:1.2.840.10045.2.1", kPropq, kKeymgmt<KeyType::kEc>, "EC keys in a PKCS#11 token"},
    {"RSA:rsaEncryption:1.2.840.113549.1.1.1", kPropq, kKeymgmt<KeyType::kRsa>, "RSA keys in a PKCS#11 token"},
    {nullptr, nullptr, nullptr, nullptr}};
const OSSL_ALGORITHM kSignatureAlgs[] = {
    {"ECDSA", kPropq, kSignature, "ECDSA by C_Sign(CKM_ECDSA)"},
    {"RSA:rsaEncryption:1.2.840.113549.1.1.1", kPropq, kSignature, "RSA by C_Sign(CKM_RSA_PKCS[_PSS])"},
    {nullptr, nullptr, nullptr, nullptr}};

const OSSL_ALGORITHM* QueryOperation(void*, int operation_id, int* no_cache) {
  *no_cache = 0;
  if (operation_id == OSSL_OP_KEYMGMT) return kKeymgmtAlgs;
  if (operation_id == OSSL_OP_SIGNATURE) return kSignatureAlgs;
  return nullptr;
}

int ProviderInit(const OSSL_CORE_HANDLE*, const OSSL_DISPATCH*, const OSSL_DISPATCH** out, void** provctx) {
  static const OSSL_DISPATCH kProvider[] = {{OSSL_FUNC_PROVIDER_QUERY_OPERATION, reinterpret_cast<Fn>(QueryOperation)},
                                            {0, nullptr}};
  static int context_tag = 0;  // no per-context state: every call is given its key
  *out = kProvider;
  *provctx = &context_tag;
  return 1;
}

}  // namespace
}  // namespace certvault::ca::p11key

namespace certvault::ca {

Result<std::unique_ptr<P11Context>> P11Context::Create() {
  std::unique_ptr<P11Context> c(new P11Context());
  c->libctx_.reset(OSSL_LIB_CTX_new());
  if (c->libctx_ == nullptr || (c->default_ = OSSL_PROVIDER_load(c->get(), "default")) == nullptr ||
      OSSL_PROVIDER_add_builtin(c->get(), p11key::kProviderName, p11key::ProviderInit) != 1 ||
      (c->p11_ = OSSL_PROVIDER_load(c->get(), p11key::kProviderName)) == nullptr) {
    ERR_clear_error();
    return InternalError("cannot make a library context with the default and cv-p11 providers");
  }
  return c;
}

// A provider loaded with OSSL_PROVIDER_load keeps a reference that
// OSSL_LIB_CTX_free does not drop: unloaded here, before the context goes.
P11Context::~P11Context() {
  if (p11_ != nullptr) OSSL_PROVIDER_unload(p11_);
  if (default_ != nullptr) OSSL_PROVIDER_unload(default_);
}

Result<OSSL_LIB_CTX*> P11LibCtx() {
  static P11Context* const ctx = [] {
    Result<std::unique_ptr<P11Context>> c = P11Context::Create();
    return c.ok() ? c->release() : nullptr;  // owned by this static for the life of the process
  }();
  if (ctx == nullptr) return InternalError("cannot make a library context with the cv-p11 provider");
  return ctx->get();
}

}  // namespace certvault::ca
