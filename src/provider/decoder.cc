// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// DECODER (provider-decoder(7)) for key-reference files (keyref.h): input
// "pem", one decoder per key type (OpenSSL collects decoders by key type),
// each producing a vault key by reference. The vault says the key's type; a
// PEM that is not ours, or a key of another type, is left to
// the other decoders (return 1 without an object); a corrupt key reference
// or a missing key is an error that ends decoding with a clear reason.
#include <openssl/core_dispatch.h>

#include <string>

#include "src/base/status_macros.h"
#include "src/provider/algorithms.h"
#include "src/provider/emit.h"
#include "src/provider/guard.h"
#include "src/provider/keyref.h"
#include "src/provider/pin.h"

namespace certvault::provider {
namespace {

struct DecoderCtx {
  ProviderContext* prov = nullptr;
  KeyAlgo algo = KeyAlgo::kEc;
};

// ReadAll: the input, at most kMaxKeyRefSize + 1 bytes (more is not ours).
std::string ReadAll(const ProviderContext& prov, OSSL_CORE_BIO* cin) {
  std::string data;
  if (prov.core().bio_read_ex == nullptr) return data;
  char buf[4096];
  while (data.size() <= kMaxKeyRefSize) {
    size_t n = 0;
    if (!prov.core().bio_read_ex(cin, buf, sizeof(buf), &n) || n == 0) break;
    data.append(buf, n);
  }
  return data;
}

Status DecodeRef(DecoderCtx& ctx, const KeyRef& ref, OSSL_CALLBACK* data_cb, void* data_cbarg,
                 OSSL_PASSPHRASE_CALLBACK* pw_cb, void* pw_cbarg, bool* other_type) {
  CV_ASSIGN_OR_RETURN(Pkcs11Uri uri, ParseKeyUri(ref.uri, false));
  PinSource pin = MakePinSource(ctx.prov->config(), uri, pw_cb, pw_cbarg);
  auto keys = ctx.prov->vault().FindKeys(uri, /*want_private=*/true, pin);
  if (!keys.ok()) return keys.status().Annotate("key reference " + ref.uri);
  if (keys->size() != 1) {
    return Status(StatusCode::kInvalidArgument, Reason::kArgumentsBad,
                  "key reference " + ref.uri + " matches " + std::to_string(keys->size()) + " keys");
  }
  if ((*keys)[0]->algo != ctx.algo) {
    *other_type = true;
    return OkStatus();
  }
  if (!EmitKey(ctx.prov, (*keys)[0], data_cb, data_cbarg)) return InternalError("the key was not accepted");
  return OkStatus();
}

int Decode(void* vctx, OSSL_CORE_BIO* cin, int selection, OSSL_CALLBACK* data_cb, void* data_cbarg,
           OSSL_PASSPHRASE_CALLBACK* pw_cb, void* pw_cbarg) {
  auto* ctx = static_cast<DecoderCtx*>(vctx);
  return Guarded(ctx->prov, "decoder_decode", 0, [&]() -> int {
    std::string text = ReadAll(*ctx->prov, cin);
    if (!HasKeyRefBlock(text)) return 1;  // not ours
    Result<KeyRef> ref = ParseKeyRef(text);
    if (!ref.ok()) {
      ctx->prov->Raise(ref.status(), "decoder_decode", ProviderReason::kBadKeyRef);
      return 0;
    }
    bool other_type = false;
    Status st = DecodeRef(*ctx, *ref, data_cb, data_cbarg, pw_cb, pw_cbarg, &other_type);
    if (other_type) return 1;  // the decoder of that key type takes it
    return Ok(ctx->prov, st, "decoder_decode");
  });
}

template <KeyAlgo A>
void* NewCtx(void* provctx) {
  auto* prov = static_cast<ProviderContext*>(provctx);
  return Guarded<void*>(prov, "decoder_newctx", nullptr, [&]() -> void* { return new DecoderCtx{prov, A}; });
}

void FreeCtx(void* vctx) { delete static_cast<DecoderCtx*>(vctx); }

int DoesSelection(void*, int selection) {
  return selection == 0 || (selection & (OSSL_KEYMGMT_SELECT_PRIVATE_KEY | OSSL_KEYMGMT_SELECT_PUBLIC_KEY)) != 0;
}

#define CV_FN(id, fn) \
  { id, reinterpret_cast<void (*)()>(fn) }
template <KeyAlgo A>
const OSSL_DISPATCH kDecoder[] = {
    CV_FN(OSSL_FUNC_DECODER_NEWCTX, NewCtx<A>),
    CV_FN(OSSL_FUNC_DECODER_FREECTX, FreeCtx),
    CV_FN(OSSL_FUNC_DECODER_DOES_SELECTION, DoesSelection),
    CV_FN(OSSL_FUNC_DECODER_DECODE, Decode),
    {0, nullptr},
};

}  // namespace

const OSSL_ALGORITHM* DecoderAlgorithms() {
  static const char* kProps = "provider=certvault,input=pem";
  static const OSSL_ALGORITHM kAlgorithms[] = {
      {"RSA:rsaEncryption:1.2.840.113549.1.1.1", kProps, kDecoder<KeyAlgo::kRsa>, "certvault key reference"},
      {"EC:id-ecPublicKey:1.2.840.10045.2.1", kProps, kDecoder<KeyAlgo::kEc>, "certvault key reference"},
      {"ED25519:1.3.101.112", kProps, kDecoder<KeyAlgo::kEd25519>, "certvault key reference"},
      {"ED448:1.3.101.113", kProps, kDecoder<KeyAlgo::kEd448>, "certvault key reference"},
      {"X25519:1.3.101.110", kProps, kDecoder<KeyAlgo::kX25519>, "certvault key reference"},
      {"X448:1.3.101.111", kProps, kDecoder<KeyAlgo::kX448>, "certvault key reference"},
      {nullptr, nullptr, nullptr, nullptr},
  };
  return kAlgorithms;
}

}  // namespace certvault::provider
