// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// KEYMGMT (provider-keymgmt(7)) for vault keys: RSA, EC (named curves),
// Ed25519/Ed448, X25519/X448. A key is loaded by reference (STORE, DECODER)
// or imported as a *public* key (a certificate's or a TLS peer's key, which
// OpenSSL exports into this KEYMGMT to compare or derive with a vault key).
// Public parameters are answered by the default provider from the public
// half; private parts are never exported, and an import carrying private
// key material is refused, so ordinary software keys never become ours.
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/params.h>

#include <array>
#include <cstring>

#include "src/crypto/libctx.h"
#include "src/provider/algorithms.h"
#include "src/provider/guard.h"
#include "src/provider/keydata.h"

namespace certvault::provider {
namespace {

constexpr int kPrivateSel = OSSL_KEYMGMT_SELECT_PRIVATE_KEY;
constexpr int kPublicSel = OSSL_KEYMGMT_SELECT_PUBLIC_KEY;

// The private components any OpenSSL key type exports.
constexpr const char* kPrivateParams[] = {
    OSSL_PKEY_PARAM_PRIV_KEY,    OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
    OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
};

bool HasPrivateMaterial(const OSSL_PARAM params[]) {
  for (const char* name : kPrivateParams) {
    if (OSSL_PARAM_locate_const(params, name) != nullptr) return true;
  }
  return false;
}

KeyData* NewKeyData(void* provctx, KeyAlgo algo) {
  auto* kd = new KeyData;
  kd->prov = static_cast<ProviderContext*>(provctx);
  kd->algo = algo;
  return kd;
}

void FreeKeyData(void* keydata) { delete static_cast<KeyData*>(keydata); }

void* LoadKey(KeyAlgo algo, const void* reference, size_t reference_sz) {
  if (reference == nullptr || reference_sz != sizeof(RefToken)) return nullptr;
  RefToken token;
  std::memcpy(&token, reference, sizeof(token));
  KeyReference* ref = token.ref;
  if (token.magic != KeyReference::kMagic || ref == nullptr || ref->magic != KeyReference::kMagic ||
      ref->key == nullptr || ref->key->algo != algo) {
    return nullptr;
  }
  return Guarded<void*>(ref->prov, "keymgmt_load", nullptr, [&]() -> void* {
    auto* kd = new KeyData;
    kd->prov = ref->prov;
    kd->algo = algo;
    kd->key = ref->key;
    return kd;
  });
}

int Has(const void* keydata, int selection) {
  const auto* kd = static_cast<const KeyData*>(keydata);
  if (kd == nullptr) return 0;
  if ((selection & OSSL_KEYMGMT_SELECT_ALL) == 0) return 1;
  if (kd->key == nullptr) return 0;
  if ((selection & kPrivateSel) != 0 && !kd->key->has_private()) return 0;
  if ((selection & kPublicSel) != 0 && EVP_PKEY_get_bits(kd->key->pub.get()) <= 0) return 0;
  return 1;
}

int Validate(const void* keydata, int selection, int) { return Has(keydata, selection); }

int Match(const void* a, const void* b, int selection) {
  const auto* ka = static_cast<const KeyData*>(a);
  const auto* kb = static_cast<const KeyData*>(b);
  if (ka == nullptr || kb == nullptr || ka->key == nullptr || kb->key == nullptr) return 0;
  if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0) return EVP_PKEY_eq(ka->key->pub.get(), kb->key->pub.get()) == 1;
  return EVP_PKEY_parameters_eq(ka->key->pub.get(), kb->key->pub.get()) == 1;
}

int GetParams(void* keydata, OSSL_PARAM params[]) {
  auto* kd = static_cast<KeyData*>(keydata);
  if (kd == nullptr || kd->key == nullptr) return 0;
  // The public half answers everything: bits, security-bits, max-size,
  // default digest, group name, encoded public key, point format ...
  return EVP_PKEY_get_params(kd->key->pub.get(), params);
}

int Import(void* keydata, int selection, const OSSL_PARAM params[]) {
  auto* kd = static_cast<KeyData*>(keydata);
  if (kd == nullptr || kd->key != nullptr || HasPrivateMaterial(params)) return 0;  // never a software private key
  return Guarded(kd->prov, "keymgmt_import", 0, [&]() -> int {
    std::string name(KeyAlgoName(kd->algo));
    ossl::UniquePtr<EVP_PKEY_CTX> ctx(crypto::NewPkeyCtx(name.c_str()));  // = kd->prov->libctx()
    EVP_PKEY* pkey = nullptr;
    int which = (selection & kPublicSel) != 0 ? EVP_PKEY_PUBLIC_KEY : EVP_PKEY_KEY_PARAMETERS;
    if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
        EVP_PKEY_fromdata(ctx.get(), &pkey, which, const_cast<OSSL_PARAM*>(params)) <= 0) {
      return 0;
    }
    auto key = std::make_shared<VaultKey>();
    key->algo = kd->algo;
    key->pub.reset(pkey);  // owned by the VaultKey
    kd->key = std::move(key);
    return 1;
  });
}

int Export(void* keydata, int selection, OSSL_CALLBACK* cb, void* cbarg) {
  auto* kd = static_cast<KeyData*>(keydata);
  if (kd == nullptr || kd->key == nullptr) return 0;
  if ((selection & kPrivateSel) != 0 && kd->key->has_private()) return 0;  // private parts stay in the vault
  OSSL_PARAM* params = nullptr;
  int which = (selection & kPublicSel) != 0 ? EVP_PKEY_PUBLIC_KEY : EVP_PKEY_KEY_PARAMETERS;
  if (EVP_PKEY_todata(kd->key->pub.get(), which, &params) <= 0) return 0;
  int ok = cb(params, cbarg);
  OSSL_PARAM_free(params);
  return ok;
}

void* Dup(const void* from, int selection) {
  const auto* kd = static_cast<const KeyData*>(from);
  if (kd == nullptr) return nullptr;
  return Guarded<void*>(kd->prov, "keymgmt_dup", nullptr, [&]() -> void* { return new KeyData(*kd); });
}

// DefaultKeymgmt: the default provider's KEYMGMT for `algo` in the private
// context, for the parameter descriptions. Fetched once, kept for the process.
EVP_KEYMGMT* DefaultKeymgmt(void* provctx, KeyAlgo algo) {
  static std::array<std::atomic<EVP_KEYMGMT*>, 6> cache{};
  auto& slot = cache[static_cast<size_t>(algo)];
  EVP_KEYMGMT* km = slot.load(std::memory_order_acquire);
  if (km != nullptr || provctx == nullptr) return km;
  // KeyAlgoName views a string literal: NUL-terminated, and nothing here allocates (no Guarded needed).
  km = EVP_KEYMGMT_fetch(static_cast<ProviderContext*>(provctx)->libctx(), KeyAlgoName(algo).data(), "provider=default");
  EVP_KEYMGMT* expected = nullptr;
  if (km != nullptr && !slot.compare_exchange_strong(expected, km)) {
    EVP_KEYMGMT_free(km);
    km = expected;
  }
  return km;
}

// ParamsFor: the default KEYMGMT's import/export descriptions (public parts only are used).
const OSSL_PARAM* ImportTypesFor(KeyAlgo algo, int selection) {
  EVP_KEYMGMT* km = DefaultKeymgmt(nullptr, algo);
  return km != nullptr ? EVP_KEYMGMT_gettable_params(km) : nullptr;
}

template <KeyAlgo A>
struct Ops {
  static void* New(void* provctx) {
    return Guarded<void*>(static_cast<ProviderContext*>(provctx), "keymgmt_new", nullptr, [&]() -> void* {
      DefaultKeymgmt(provctx, A);
      return NewKeyData(provctx, A);
    });
  }
  static void* Load(const void* reference, size_t reference_sz) { return LoadKey(A, reference, reference_sz); }
  static const OSSL_PARAM* Gettable(void* provctx) {
    EVP_KEYMGMT* km = DefaultKeymgmt(provctx, A);
    return km != nullptr ? EVP_KEYMGMT_gettable_params(km) : nullptr;
  }
  static const OSSL_PARAM* Types(int selection) { return ImportTypesFor(A, selection); }
  // OperationName: the provider-private operation names (algorithms.h), so
  // that OpenSSL's first fetch for a vault key finds this provider's
  // implementation directly instead of trying the default provider and a
  // refused export first, on every operation.
  static const char* OperationName(int operation_id) {
    switch (operation_id) {
      case OSSL_OP_SIGNATURE:
        return SignatureName(A);
      case OSSL_OP_KEYEXCH:
        return KeyexchName(A);
      case OSSL_OP_ASYM_CIPHER:
        return A == KeyAlgo::kRsa ? kVaultRsaCipher : nullptr;
      default:
        return nullptr;
    }
  }
};

#define CV_FN(id, fn) \
  { id, reinterpret_cast<void (*)()>(fn) }

template <KeyAlgo A>
const OSSL_DISPATCH kKeymgmt[] = {
    CV_FN(OSSL_FUNC_KEYMGMT_NEW, Ops<A>::New),
    CV_FN(OSSL_FUNC_KEYMGMT_FREE, FreeKeyData),
    CV_FN(OSSL_FUNC_KEYMGMT_LOAD, Ops<A>::Load),
    CV_FN(OSSL_FUNC_KEYMGMT_GET_PARAMS, GetParams),
    CV_FN(OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, Ops<A>::Gettable),
    CV_FN(OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, Ops<A>::OperationName),
    CV_FN(OSSL_FUNC_KEYMGMT_HAS, Has),
    CV_FN(OSSL_FUNC_KEYMGMT_VALIDATE, Validate),
    CV_FN(OSSL_FUNC_KEYMGMT_MATCH, Match),
    CV_FN(OSSL_FUNC_KEYMGMT_IMPORT, Import),
    CV_FN(OSSL_FUNC_KEYMGMT_IMPORT_TYPES, Ops<A>::Types),
    CV_FN(OSSL_FUNC_KEYMGMT_EXPORT, Export),
    CV_FN(OSSL_FUNC_KEYMGMT_EXPORT_TYPES, Ops<A>::Types),
    CV_FN(OSSL_FUNC_KEYMGMT_DUP, Dup),
    {0, nullptr},
};

}  // namespace

const OSSL_ALGORITHM* KeymgmtAlgorithms() {
  static const OSSL_ALGORITHM kAlgorithms[] = {
      {"RSA:rsaEncryption:1.2.840.113549.1.1.1", "provider=certvault", kKeymgmt<KeyAlgo::kRsa>, "certvault RSA"},
      {"EC:id-ecPublicKey:1.2.840.10045.2.1", "provider=certvault", kKeymgmt<KeyAlgo::kEc>, "certvault EC"},
      {"ED25519:1.3.101.112", "provider=certvault", kKeymgmt<KeyAlgo::kEd25519>, "certvault Ed25519"},
      {"ED448:1.3.101.113", "provider=certvault", kKeymgmt<KeyAlgo::kEd448>, "certvault Ed448"},
      {"X25519:1.3.101.110", "provider=certvault", kKeymgmt<KeyAlgo::kX25519>, "certvault X25519"},
      {"X448:1.3.101.111", "provider=certvault", kKeymgmt<KeyAlgo::kX448>, "certvault X448"},
      {nullptr, nullptr, nullptr, nullptr},
  };
  return kAlgorithms;
}

}  // namespace certvault::provider
