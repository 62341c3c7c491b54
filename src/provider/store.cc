// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// STORE loader (provider-storemgmt(7)) for certvault: URIs (and pkcs11: URIs
// when configured with claim-pkcs11-uris). A URI with type=private (or an
// application expecting a private key) loads private keys, logging in; a
// listing without a type yields the private keys when a PIN is at hand, then
// public keys and certificates -- public objects need no PIN.
#include <openssl/core_dispatch.h>
#include <openssl/store.h>

#include <optional>
#include <vector>

#include "src/base/status_macros.h"
#include "src/provider/algorithms.h"
#include "src/provider/emit.h"
#include "src/provider/guard.h"
#include "src/provider/keyref.h"
#include "src/provider/pin.h"

namespace certvault::provider {
namespace {

struct StoreCtx {
  ProviderContext* prov = nullptr;
  Pkcs11Uri uri;
  int expect = 0;  // OSSL_STORE_INFO_* or 0
  bool loaded = false;
  std::vector<std::shared_ptr<const VaultKey>> keys;
  std::vector<Bytes> certs;
  size_t next = 0;
};

bool Wants(const StoreCtx& s, int info, ObjectClass cls) {
  return (s.expect == 0 || s.expect == info) && (!s.uri.type || *s.uri.type == cls);
}

Status Collect(StoreCtx& s, OSSL_PASSPHRASE_CALLBACK* pw_cb, void* pw_cbarg) {
  Vault& vault = s.prov->vault();
  bool explicit_private = s.expect == OSSL_STORE_INFO_PKEY || (s.uri.type && *s.uri.type == CKO_PRIVATE_KEY);
  if (Wants(s, OSSL_STORE_INFO_PKEY, CKO_PRIVATE_KEY)) {
    PinSource pin = MakePinSource(s.prov->config(), s.uri, pw_cb, pw_cbarg);
    auto keys = vault.FindKeys(s.uri, /*want_private=*/true, pin);
    if (keys.ok()) {
      s.keys = std::move(*keys);
    } else if (explicit_private || (keys.status().code() != StatusCode::kNotFound &&
                                    keys.status().code() != StatusCode::kUnauthenticated)) {
      return keys.status();
    }
  }
  if (Wants(s, OSSL_STORE_INFO_PUBKEY, CKO_PUBLIC_KEY)) {
    auto keys = vault.FindKeys(s.uri, /*want_private=*/false, nullptr);
    if (keys.ok())
      s.keys.insert(s.keys.end(), keys->begin(), keys->end());
    else if (keys.status().code() != StatusCode::kNotFound)
      return keys.status();
  }
  if (Wants(s, OSSL_STORE_INFO_CERT, CKO_CERTIFICATE)) {
    CV_ASSIGN_OR_RETURN(s.certs, vault.FindCertificates(s.uri));
  }
  if (s.keys.empty() && s.certs.empty()) {
    return NotFoundError("nothing in the vault matches " + FormatUriWithScheme(s.uri, kVaultScheme));
  }
  return OkStatus();
}

int EmitCert(const Bytes& der, OSSL_CALLBACK* cb, void* cbarg) {
  int type = OSSL_OBJECT_CERT;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &type),
      OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_DATA, const_cast<uint8_t*>(der.data()), der.size()),
      OSSL_PARAM_construct_end(),
  };
  return cb(params, cbarg);
}

void* Open(void* provctx, const char* uri) {
  auto* prov = static_cast<ProviderContext*>(provctx);
  return Guarded<void*>(prov, "store_open", nullptr, [&]() -> void* {
    Result<Pkcs11Uri> parsed = ParseKeyUri(uri != nullptr ? uri : "", prov->config().claim_pkcs11);
    if (!parsed.ok()) {
      prov->Raise(parsed.status(), "store_open", ProviderReason::kBadUri);
      return nullptr;
    }
    auto* s = new StoreCtx;
    s->prov = prov;
    s->uri = std::move(*parsed);
    return s;
  });
}

const OSSL_PARAM* SettableCtxParams(void*) {
  static const OSSL_PARAM kParams[] = {OSSL_PARAM_int(OSSL_STORE_PARAM_EXPECT, nullptr), OSSL_PARAM_END};
  return kParams;
}

int SetCtxParams(void* loaderctx, const OSSL_PARAM params[]) {
  auto* s = static_cast<StoreCtx*>(loaderctx);
  const OSSL_PARAM* p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_EXPECT);
  if (p != nullptr && !OSSL_PARAM_get_int(p, &s->expect)) return 0;
  return 1;  // other criteria (subject, serial ...) are not used for lookups
}

int Load(void* loaderctx, OSSL_CALLBACK* object_cb, void* object_cbarg, OSSL_PASSPHRASE_CALLBACK* pw_cb,
         void* pw_cbarg) {
  auto* s = static_cast<StoreCtx*>(loaderctx);
  return Guarded(s->prov, "store_load", 0, [&]() -> int {
    if (!s->loaded) {
      s->loaded = true;
      Status st = Collect(*s, pw_cb, pw_cbarg);
      if (!st.ok()) return Ok(s->prov, st, "store_load");
    }
    if (s->next < s->keys.size()) return EmitKey(s->prov, s->keys[s->next++], object_cb, object_cbarg);
    size_t c = s->next - s->keys.size();
    if (c < s->certs.size()) {
      ++s->next;
      return EmitCert(s->certs[c], object_cb, object_cbarg);
    }
    return 0;
  });
}

int Eof(void* loaderctx) {
  auto* s = static_cast<StoreCtx*>(loaderctx);
  return s->loaded && s->next >= s->keys.size() + s->certs.size();
}

int Close(void* loaderctx) {
  delete static_cast<StoreCtx*>(loaderctx);
  return 1;
}

#define CV_FN(id, fn) \
  { id, reinterpret_cast<void (*)()>(fn) }
const OSSL_DISPATCH kStore[] = {
    CV_FN(OSSL_FUNC_STORE_OPEN, Open),
    CV_FN(OSSL_FUNC_STORE_SETTABLE_CTX_PARAMS, SettableCtxParams),
    CV_FN(OSSL_FUNC_STORE_SET_CTX_PARAMS, SetCtxParams),
    CV_FN(OSSL_FUNC_STORE_LOAD, Load),
    CV_FN(OSSL_FUNC_STORE_EOF, Eof),
    CV_FN(OSSL_FUNC_STORE_CLOSE, Close),
    {0, nullptr},
};

}  // namespace

const OSSL_ALGORITHM* StoreAlgorithms(bool claim_pkcs11) {
  static const OSSL_ALGORITHM kVaultOnly[] = {
      {"certvault", "provider=certvault", kStore, "certvault key store"},
      {nullptr, nullptr, nullptr, nullptr},
  };
  static const OSSL_ALGORITHM kWithPkcs11[] = {
      {"certvault", "provider=certvault", kStore, "certvault key store"},
      {"pkcs11", "provider=certvault", kStore, "certvault key store (pkcs11: URIs)"},
      {nullptr, nullptr, nullptr, nullptr},
  };
  return claim_pkcs11 ? kWithPkcs11 : kVaultOnly;
}

}  // namespace certvault::provider
