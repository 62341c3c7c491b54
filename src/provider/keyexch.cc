// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// KEYEXCH (provider-keyexch(7)): ECDH with vault EC keys, X25519/X448 with
// vault Montgomery keys, by CKM_ECDH1_DERIVE (CKD_NULL). The peer's public
// key arrives through this provider's KEYMGMT import (public parts only).
// The shared secret leaves the vault as a session object that is read once
// and destroyed.
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include <cstring>

#include "src/base/status_macros.h"
#include "src/crypto/ossl_error.h"
#include "src/provider/algorithms.h"
#include "src/provider/guard.h"
#include "src/provider/keydata.h"

namespace certvault::provider {
namespace {

struct ExchCtx {
  ProviderContext* prov = nullptr;
  KeyAlgo algo = KeyAlgo::kEc;
  std::shared_ptr<const VaultKey> key;
  std::shared_ptr<const VaultKey> peer;
};

size_t SecretSize(const VaultKey& key) {
  if (key.algo == KeyAlgo::kX25519) return 32;
  if (key.algo == KeyAlgo::kX448) return 56;
  return (static_cast<size_t>(EVP_PKEY_get_bits(key.pub.get())) + 7) / 8;  // the field size
}

Status Derive(ExchCtx& ctx, uint8_t* secret, size_t* secretlen, size_t outlen) {
  if (ctx.key == nullptr || ctx.peer == nullptr) return Status(Reason::kOperationNotInitialized, "no key or no peer");
  size_t size = SecretSize(*ctx.key);
  if (secret == nullptr) {
    *secretlen = size;
    return OkStatus();
  }
  if (outlen < size) return Status(Reason::kBufferTooSmall, "shared secret buffer too small");
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(ctx.peer->pub.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, nullptr, 0, &len) != 1) {
    return ossl::OpenSslError("peer public key", Reason::kDataInvalid);
  }
  Bytes peer(len);
  if (EVP_PKEY_get_octet_string_param(ctx.peer->pub.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, peer.data(), len,
                                      &len) != 1) {
    return ossl::OpenSslError("peer public key", Reason::kDataInvalid);
  }
  CV_ASSIGN_OR_RETURN(SecretBytes z, ctx.prov->vault().DeriveEcdh(*ctx.key, peer, size));
  std::memcpy(secret, z.Bytes(SecretAccess::Get()).data(), z.size());
  *secretlen = z.size();
  return OkStatus();
}

Status Init(ExchCtx& ctx, void* provkey) {
  auto* kd = static_cast<KeyData*>(provkey);
  if (kd == nullptr || kd->key == nullptr || kd->algo != ctx.algo)
    return Status(Reason::kKeyTypeInconsistent, "key type");
  if (!kd->key->has_private()) return Status(Reason::kKeyHandleInvalid, "key exchange needs a vault private key");
  ctx.key = kd->key;
  return OkStatus();
}

Status SetPeer(ExchCtx& ctx, void* provkey) {
  auto* kd = static_cast<KeyData*>(provkey);
  if (kd == nullptr || kd->key == nullptr || kd->algo != ctx.algo)
    return Status(Reason::kKeyTypeInconsistent, "peer key");
  if (ctx.key != nullptr && EVP_PKEY_parameters_eq(ctx.key->pub.get(), kd->key->pub.get()) != 1 &&
      ctx.algo == KeyAlgo::kEc) {
    return Status(Reason::kKeyTypeInconsistent, "the peer key is on another curve");
  }
  ctx.peer = kd->key;
  return OkStatus();
}

template <KeyAlgo A>
void* NewCtx(void* provctx) {
  auto* prov = static_cast<ProviderContext*>(provctx);
  return Guarded<void*>(prov, "keyexch_newctx", nullptr, [&]() -> void* { return new ExchCtx{prov, A, {}, {}}; });
}
void FreeCtx(void* vctx) { delete static_cast<ExchCtx*>(vctx); }
void* DupCtx(void* vctx) {
  auto* src = static_cast<ExchCtx*>(vctx);
  return Guarded<void*>(src->prov, "keyexch_dupctx", nullptr, [&]() -> void* { return new ExchCtx(*src); });
}

#define CV_CALL(name, expr)                \
  auto* ctx = static_cast<ExchCtx*>(vctx); \
  return Guarded(ctx->prov, name, 0, [&]() -> int { return Ok(ctx->prov, (expr), name); })

int InitFn(void* vctx, void* provkey, const OSSL_PARAM[]) { CV_CALL("keyexch_init", Init(*ctx, provkey)); }
int SetPeerFn(void* vctx, void* provkey) { CV_CALL("keyexch_set_peer", SetPeer(*ctx, provkey)); }
int DeriveFn(void* vctx, unsigned char* secret, size_t* secretlen, size_t outlen) {
  CV_CALL("keyexch_derive", Derive(*ctx, secret, secretlen, outlen));
}
// No KDF, no cofactor mode: only the plain shared secret is offered.
int SetCtxParams(void*, const OSSL_PARAM params[]) { return params == nullptr || params[0].key == nullptr; }
const OSSL_PARAM* SettableCtxParams(void*, void*) {
  static const OSSL_PARAM kParams[] = {OSSL_PARAM_END};
  return kParams;
}

#define CV_FN(id, fn) \
  { id, reinterpret_cast<void (*)()>(fn) }
template <KeyAlgo A>
const OSSL_DISPATCH kExch[] = {
    CV_FN(OSSL_FUNC_KEYEXCH_NEWCTX, NewCtx<A>),
    CV_FN(OSSL_FUNC_KEYEXCH_FREECTX, FreeCtx),
    CV_FN(OSSL_FUNC_KEYEXCH_DUPCTX, DupCtx),
    CV_FN(OSSL_FUNC_KEYEXCH_INIT, InitFn),
    CV_FN(OSSL_FUNC_KEYEXCH_SET_PEER, SetPeerFn),
    CV_FN(OSSL_FUNC_KEYEXCH_DERIVE, DeriveFn),
    CV_FN(OSSL_FUNC_KEYEXCH_SET_CTX_PARAMS, SetCtxParams),
    CV_FN(OSSL_FUNC_KEYEXCH_SETTABLE_CTX_PARAMS, SettableCtxParams),
    {0, nullptr},
};

}  // namespace

const OSSL_ALGORITHM* KeyexchAlgorithms() {
  static const OSSL_ALGORITHM kAlgorithms[] = {
      {kVaultEcdh, "provider=certvault", kExch<KeyAlgo::kEc>, "certvault ECDH"},
      {kVaultX25519, "provider=certvault", kExch<KeyAlgo::kX25519>, "certvault X25519"},
      {kVaultX448, "provider=certvault", kExch<KeyAlgo::kX448>, "certvault X448"},
      {"ECDH", "provider=certvault", kExch<KeyAlgo::kEc>, "certvault ECDH"},
      {"X25519:1.3.101.110", "provider=certvault", kExch<KeyAlgo::kX25519>, "certvault X25519"},
      {"X448:1.3.101.111", "provider=certvault", kExch<KeyAlgo::kX448>, "certvault X448"},
      {nullptr, nullptr, nullptr, nullptr},
  };
  return kAlgorithms;
}

}  // namespace certvault::provider
