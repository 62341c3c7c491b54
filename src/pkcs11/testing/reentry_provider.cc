// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// cvreentry: an OpenSSL provider built only for tests. It stands for
// pkcs11-provider as an application configures it (`default_properties =
// ?provider=pkcs11`): it claims EC and RSA key management and decoding, and
// every decode first calls into the certvault PKCS#11 module, the way
// pkcs11-provider opens a session and starts an operation on the token. It
// then declines (decodes nothing), so OpenSSL goes on with the default
// provider's decoders.
//
// Environment: CV_REENTRY_MODULE (the module path; it must be loaded
// already), CV_REENTRY_SLOT (the slot to use). Exported for the test:
// cv_reentry_calls (decodes seen), cv_reentry_module_calls (module
// round trips started), cv_reentry_failures (module calls that failed).
#include <dlfcn.h>
#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include <atomic>
#include <cstdlib>

#include "src/pkcs11/pkcs11_v3.h"

extern "C" {
__attribute__((visibility("default"))) std::atomic<int> cv_reentry_calls{0};
__attribute__((visibility("default"))) std::atomic<int> cv_reentry_module_calls{0};
__attribute__((visibility("default"))) std::atomic<int> cv_reentry_failures{0};
}

namespace {

CK_FUNCTION_LIST_PTR Module() {
  const char* path = std::getenv("CV_REENTRY_MODULE");
  if (path == nullptr) return nullptr;
  void* handle = dlopen(path, RTLD_NOW | RTLD_NOLOAD);  // the instance the application loaded
  if (handle == nullptr) return nullptr;
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(dlsym(handle, "C_GetFunctionList"));
  CK_FUNCTION_LIST_PTR list = nullptr;
  if (get_list == nullptr || get_list(&list) != CKR_OK) list = nullptr;
  dlclose(handle);  // drops only the reference NOLOAD took
  return list;
}

// SignWithFirstKey: a session of its own, the first private key, one ECDSA
// signature, close: what pkcs11-provider does for a key it is asked to use.
bool SignWithFirstKey(CK_FUNCTION_LIST_PTR f, CK_SLOT_ID slot) {
  CK_SESSION_HANDLE s = 0;
  if (f->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &s) != CKR_OK) return false;
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
  CK_KEY_TYPE type = CKK_EC;
  CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &type, sizeof(type)}};
  CK_OBJECT_HANDLE key = 0;
  CK_ULONG found = 0;
  bool ok = f->C_FindObjectsInit(s, tmpl, 2) == CKR_OK && f->C_FindObjects(s, &key, 1, &found) == CKR_OK;
  ok = f->C_FindObjectsFinal(s) == CKR_OK && ok && found == 1;
  CK_MECHANISM mech{CKM_ECDSA, nullptr, 0};
  CK_BYTE digest[32] = {3}, sig[132];
  CK_ULONG len = sizeof(sig);
  ok = ok && f->C_SignInit(s, &mech, key) == CKR_OK && f->C_Sign(s, digest, sizeof(digest), sig, &len) == CKR_OK;
  return f->C_CloseSession(s) == CKR_OK && ok;
}

void CallModule() {
  static thread_local bool inside = false;  // the module may load the key again
  if (inside) return;
  CK_FUNCTION_LIST_PTR f = Module();
  const char* slot = std::getenv("CV_REENTRY_SLOT");
  if (f == nullptr || slot == nullptr) return;
  inside = true;
  cv_reentry_module_calls.fetch_add(1);
  if (!SignWithFirstKey(f, std::strtoul(slot, nullptr, 10))) cv_reentry_failures.fetch_add(1);
  inside = false;
}

// --- KEYMGMT: holds imported parameters and gives them back on export ---
struct KeyData {
  OSSL_PARAM* params = nullptr;
};
void* KmNew(void*) { return new KeyData; }
void KmFree(void* kd) {
  auto* k = static_cast<KeyData*>(kd);
  if (k != nullptr) OSSL_PARAM_free(k->params);
  delete k;
}
int KmHas(const void* kd, int) { return kd != nullptr && static_cast<const KeyData*>(kd)->params != nullptr; }
int KmImport(void* kd, int, const OSSL_PARAM params[]) {
  cv_reentry_calls.fetch_add(1);
  CallModule();
  auto* k = static_cast<KeyData*>(kd);
  OSSL_PARAM_free(k->params);
  k->params = OSSL_PARAM_dup(params);
  return k->params != nullptr;
}
int KmExport(void* kd, int, OSSL_CALLBACK* cb, void* cbarg) {
  auto* k = static_cast<KeyData*>(kd);
  return k->params != nullptr && cb(k->params, cbarg);
}
const OSSL_PARAM* KmTypes(int) {
  static const OSSL_PARAM kNone[] = {OSSL_PARAM_END};
  return kNone;
}

// --- DECODER: calls the module, then declines ---
void* DecNew(void* provctx) { return provctx; }
void DecFree(void*) {}
int DecDoesSelection(void*, int) { return 1; }
int DecDecode(void*, OSSL_CORE_BIO*, int, OSSL_CALLBACK*, void*, OSSL_PASSPHRASE_CALLBACK*, void*) {
  cv_reentry_calls.fetch_add(1);
  CallModule();
  return 1;  // no object, no error: the next decoder is tried
}

template <typename F>
OSSL_DISPATCH Fn(int id, F f) {
  return OSSL_DISPATCH{id, reinterpret_cast<void (*)()>(f)};
}

const OSSL_DISPATCH kKeymgmt[] = {
    Fn(OSSL_FUNC_KEYMGMT_NEW, KmNew),       Fn(OSSL_FUNC_KEYMGMT_FREE, KmFree),
    Fn(OSSL_FUNC_KEYMGMT_HAS, KmHas),       Fn(OSSL_FUNC_KEYMGMT_IMPORT, KmImport),
    Fn(OSSL_FUNC_KEYMGMT_IMPORT_TYPES, KmTypes), Fn(OSSL_FUNC_KEYMGMT_EXPORT, KmExport),
    Fn(OSSL_FUNC_KEYMGMT_EXPORT_TYPES, KmTypes), {0, nullptr}};
const OSSL_DISPATCH kDecoder[] = {
    Fn(OSSL_FUNC_DECODER_NEWCTX, DecNew), Fn(OSSL_FUNC_DECODER_FREECTX, DecFree),
    Fn(OSSL_FUNC_DECODER_DOES_SELECTION, DecDoesSelection), Fn(OSSL_FUNC_DECODER_DECODE, DecDecode), {0, nullptr}};

constexpr const char* kEcNames = "EC:id-ecPublicKey:1.2.840.10045.2.1";
constexpr const char* kRsaNames = "RSA:rsaEncryption:1.2.840.113549.1.1.1";
const OSSL_ALGORITHM kKeymgmts[] = {{kEcNames, "provider=cvreentry", kKeymgmt, nullptr},
                                    {kRsaNames, "provider=cvreentry", kKeymgmt, nullptr},
                                    {nullptr, nullptr, nullptr, nullptr}};
const OSSL_ALGORITHM kDecoders[] = {
    {kEcNames, "provider=cvreentry,input=der,structure=PrivateKeyInfo", kDecoder, nullptr},
    {kRsaNames, "provider=cvreentry,input=der,structure=PrivateKeyInfo", kDecoder, nullptr},
    {kEcNames, "provider=cvreentry,input=der,structure=SubjectPublicKeyInfo", kDecoder, nullptr},
    {kRsaNames, "provider=cvreentry,input=der,structure=SubjectPublicKeyInfo", kDecoder, nullptr},
    {nullptr, nullptr, nullptr, nullptr}};

const OSSL_ALGORITHM* Query(void*, int operation_id, int* no_cache) {
  *no_cache = 0;
  switch (operation_id) {
    case OSSL_OP_KEYMGMT: return kKeymgmts;
    case OSSL_OP_DECODER: return kDecoders;
    default: return nullptr;
  }
}
void Teardown(void*) {}

const OSSL_DISPATCH kProvider[] = {Fn(OSSL_FUNC_PROVIDER_QUERY_OPERATION, Query),
                                   Fn(OSSL_FUNC_PROVIDER_TEARDOWN, Teardown), {0, nullptr}};

}  // namespace

extern "C" __attribute__((visibility("default"))) int OSSL_provider_init(const OSSL_CORE_HANDLE*,
                                                                         const OSSL_DISPATCH*,
                                                                         const OSSL_DISPATCH** out, void** provctx) {
  *out = kProvider;
  *provctx = const_cast<OSSL_DISPATCH*>(kProvider);  // any non-null pointer: no state
  return 1;
}
