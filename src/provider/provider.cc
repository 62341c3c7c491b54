// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// OSSL_provider_init and the provider-level functions (provider-base(7)):
// parameters, query_operation, reason strings, teardown.
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include <cstdarg>

#include "src/crypto/libctx.h"
#include "src/provider/algorithms.h"
#include "src/provider/guard.h"
#include "src/provider/provctx.h"
#include "src/selftest/selftest.h"

namespace certvault::provider {
namespace {

void SetError(const CoreUpcalls& core, const OSSL_CORE_HANDLE* handle, uint32_t reason, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  core.vset_error(handle, reason, fmt, ap);
  va_end(ap);
}

CoreUpcalls ReadUpcalls(const OSSL_DISPATCH* in) {
  CoreUpcalls core;
  for (; in != nullptr && in->function_id != 0; ++in) {
    switch (in->function_id) {
      case OSSL_FUNC_CORE_GET_PARAMS:
        core.get_params = OSSL_FUNC_core_get_params(in);
        break;
      case OSSL_FUNC_CORE_NEW_ERROR:
        core.new_error = OSSL_FUNC_core_new_error(in);
        break;
      case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
        core.set_error_debug = OSSL_FUNC_core_set_error_debug(in);
        break;
      case OSSL_FUNC_CORE_VSET_ERROR:
        core.vset_error = OSSL_FUNC_core_vset_error(in);
        break;
      case OSSL_FUNC_BIO_READ_EX:
        core.bio_read_ex = OSSL_FUNC_BIO_read_ex(in);
        break;
      default:
        break;  // upcalls the provider does not use
    }
  }
  return core;
}

bool IsYes(const char* v) {
  std::string_view s = v != nullptr ? v : "";
  return s == "1" || s == "yes" || s == "true" || s == "on";
}

ProviderConfig ReadConfig(const CoreUpcalls& core, const OSSL_CORE_HANDLE* handle) {
  const char* vault = nullptr;
  const char* pin_file = nullptr;
  const char* pin_env = nullptr;
  const char* socket = nullptr;
  const char* claim = nullptr;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_ptr("vault", const_cast<char**>(&vault), 0),
      OSSL_PARAM_construct_utf8_ptr("pin-file", const_cast<char**>(&pin_file), 0),
      OSSL_PARAM_construct_utf8_ptr("pin-env", const_cast<char**>(&pin_env), 0),
      OSSL_PARAM_construct_utf8_ptr("socket", const_cast<char**>(&socket), 0),
      OSSL_PARAM_construct_utf8_ptr("claim-pkcs11-uris", const_cast<char**>(&claim), 0),
      OSSL_PARAM_construct_end(),
  };
  ProviderConfig config;
  if (core.get_params == nullptr || !core.get_params(handle, params)) return config;
  if (vault != nullptr) config.vault_dir = vault;
  if (pin_file != nullptr) config.pin_file = pin_file;
  if (pin_env != nullptr) config.pin_env = pin_env;
  if (socket != nullptr) config.socket = socket;
  config.claim_pkcs11 = IsYes(claim);
  return config;
}

const OSSL_PARAM* GettableParams(void*) {
  static const OSSL_PARAM kParams[] = {
      OSSL_PARAM_DEFN(OSSL_PROV_PARAM_NAME, OSSL_PARAM_UTF8_PTR, nullptr, 0),
      OSSL_PARAM_DEFN(OSSL_PROV_PARAM_VERSION, OSSL_PARAM_UTF8_PTR, nullptr, 0),
      OSSL_PARAM_DEFN(OSSL_PROV_PARAM_BUILDINFO, OSSL_PARAM_UTF8_PTR, nullptr, 0),
      OSSL_PARAM_DEFN(OSSL_PROV_PARAM_STATUS, OSSL_PARAM_INTEGER, nullptr, 0),
      OSSL_PARAM_END,
  };
  return kParams;
}

int GetParams(void*, OSSL_PARAM params[]) {
  OSSL_PARAM* p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME);
  if (p != nullptr && !OSSL_PARAM_set_utf8_ptr(p, "certvault provider")) return 0;
  p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION);
  if (p != nullptr && !OSSL_PARAM_set_utf8_ptr(p, CV_PROVIDER_VERSION)) return 0;
  p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_BUILDINFO);
  if (p != nullptr && !OSSL_PARAM_set_utf8_ptr(p, CV_PROVIDER_VERSION)) return 0;
  p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS);
  if (p != nullptr && !OSSL_PARAM_set_int(p, 1)) return 0;
  return 1;
}

const OSSL_ALGORITHM* QueryOperation(void* provctx, int operation_id, int* no_cache) {
  *no_cache = 0;
  auto* ctx = static_cast<ProviderContext*>(provctx);
  switch (operation_id) {
    case OSSL_OP_KEYMGMT:
      return KeymgmtAlgorithms();
    case OSSL_OP_SIGNATURE:
      return SignatureAlgorithms();
    case OSSL_OP_ASYM_CIPHER:
      return AsymCipherAlgorithms();
    case OSSL_OP_KEYEXCH:
      return KeyexchAlgorithms();
    case OSSL_OP_DECODER:
      return DecoderAlgorithms();
    case OSSL_OP_STORE:
      return StoreAlgorithms(ctx->config().claim_pkcs11);
    default:
      return nullptr;  // everything else: other providers
  }
}

const OSSL_ITEM* GetReasonStrings(void*) { return ReasonStrings(); }

void Teardown(void* provctx) {
  delete static_cast<ProviderContext*>(provctx);
  // The core's libctx stays as set: other copies of certvault are not affected
  // (each module links its own), and this one is being unloaded.
}

const OSSL_DISPATCH kProviderFunctions[] = {
    {OSSL_FUNC_PROVIDER_TEARDOWN, reinterpret_cast<void (*)()>(Teardown)},
    {OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, reinterpret_cast<void (*)()>(GettableParams)},
    {OSSL_FUNC_PROVIDER_GET_PARAMS, reinterpret_cast<void (*)()>(GetParams)},
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, reinterpret_cast<void (*)()>(QueryOperation)},
    {OSSL_FUNC_PROVIDER_GET_REASON_STRINGS, reinterpret_cast<void (*)()>(GetReasonStrings)},
    {0, nullptr},
};

}  // namespace

ProviderContext::ProviderContext(const OSSL_CORE_HANDLE* handle, const CoreUpcalls& core, ProviderConfig config,
                                 OSSL_LIB_CTX* libctx)
    : handle_(handle), core_(core), config_(std::move(config)), libctx_(libctx),
      vault_(std::make_unique<Vault>(config_.vault_dir, config_.socket, libctx)) {}

ProviderContext::~ProviderContext() {
  vault_.reset();
  // libctx_ is crypto::LibCtx(), never freed: objects of the application
  // (EVP_PKEYs whose key data holds public keys of this context) may outlive
  // teardown, and a second instance of the provider shares it.
}

void ProviderContext::RaiseText(ProviderReason reason, const char* func, const char* text) const {
  if (core_.new_error == nullptr || core_.vset_error == nullptr) return;
  core_.new_error(handle_);
  if (core_.set_error_debug != nullptr) core_.set_error_debug(handle_, "certvault-provider", 0, func);
  SetError(core_, handle_, static_cast<uint32_t>(reason), "%s", text);
}

void ProviderContext::Raise(const Status& status, const char* func, ProviderReason reason) const {
  if (reason == ProviderReason::kDoNotUse) reason = ToProviderReason(status);
  std::string text(status.message());
  RaiseText(reason, func, text.c_str());
}

}  // namespace certvault::provider

// OSSL_provider_init: the only exported symbol (exports.map).
extern "C" __attribute__((visibility("default"))) int OSSL_provider_init(const OSSL_CORE_HANDLE* handle,
                                                                         const OSSL_DISPATCH* in,
                                                                         const OSSL_DISPATCH** out, void** provctx) {
  using namespace certvault::provider;
  return Guarded(nullptr, "OSSL_provider_init", 0, [&]() -> int {
    CoreUpcalls core = ReadUpcalls(in);
    if (core.new_error == nullptr || core.vset_error == nullptr) return 0;
    // certvault's own context (default + base providers only): the core's
    // crypto and the provider's software work never loop back into this
    // provider, nor into any other the application configured.
    OSSL_LIB_CTX* libctx = certvault::crypto::LibCtx();
    if (libctx == nullptr) return 0;
    // Power-on self-tests in the provider's own context: a failure fails the
    // load, so no operation of this provider can run (docs/design/selftest.md).
    if (certvault::Status st = certvault::selftest::RunPowerOnSelfTests(); !st.ok()) {
      core.new_error(handle);
      SetError(core, handle, static_cast<uint32_t>(ProviderReason::kInternal), "%s", std::string(st.message()).c_str());
      return 0;  // nothing may use this copy of the core now
    }
    Vault::RegisterForkHandlers();
    *provctx = new ProviderContext(handle, core, ReadConfig(core, handle), libctx);
    *out = kProviderFunctions;
    return 1;
  });
}
