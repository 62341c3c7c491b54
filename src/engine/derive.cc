// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CKM_ECDH1_DERIVE (PKCS#11 v3.0 §2.3.17) for NIST curves and X25519/X448:
// Z = the shared secret, then CKD_NULL (Z itself) or CKD_SHA*_KDF, the ANSI
// X9.63 KDF: K = H(Z || counter_32 || SharedInfo) || ..., counter from 1.
#include <array>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/engine/hash.h"
#include "src/engine/key_build.h"
#include "src/engine/ops.h"
#include "src/model/pkcs11_constants.h"
#include "src/selftest/selftest.h"

namespace certvault::engine {
namespace {

Result<MechanismType> KdfHash(uint64_t kdf) {
  switch (kdf) {
    case CKD_SHA1_KDF: return MechanismType{CKM_SHA_1};
    case CKD_SHA224_KDF: return MechanismType{CKM_SHA224};
    case CKD_SHA256_KDF: return MechanismType{CKM_SHA256};
    case CKD_SHA384_KDF: return MechanismType{CKM_SHA384};
    case CKD_SHA512_KDF: return MechanismType{CKM_SHA512};
    default: return Status(Reason::kMechanismParamInvalid, "unsupported ECDH KDF");
  }
}

Result<PkeyPtr> PeerKey(const ReadyKey& base, std::span<const uint8_t> public_data) {
  CV_ASSIGN_OR_RETURN(const Curve* curve, CurveOf(base.pkey.get()));
  AttributeSet attrs;
  attrs.Set(CKA_EC_PARAMS, curve->oid_der);
  attrs.Set(CKA_EC_POINT, public_data);
  Result<PkeyPtr> peer = PublicFromAttrs(attrs, base.key_type);
  if (!peer.ok()) return Status(Reason::kMechanismParamInvalid, "invalid ECDH public data");
  return peer;
}

Result<SecretBytes> SharedSecret(const ReadyKey& base, EVP_PKEY* peer) {
  ossl::UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(crypto::LibCtx(), base.pkey.get(), nullptr));
  if (ctx == nullptr || EVP_PKEY_derive_init(ctx.get()) != 1) return ossl::OpenSslError("EVP_PKEY_derive_init");
  // validate_peer = 1: the peer point is checked to be on the curve.
  if (EVP_PKEY_derive_set_peer_ex(ctx.get(), peer, 1) != 1) {
    ossl::ClearErrors();
    return Status(Reason::kMechanismParamInvalid, "ECDH peer key rejected");
  }
  size_t len = 0;
  if (EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) return ossl::OpenSslError("EVP_PKEY_derive");
  SecretBytes z(len);
  if (EVP_PKEY_derive(ctx.get(), z.MutableBytes(SecretAccess::Get()).data(), &len) != 1) {
    ossl::ClearErrors();
    return Status(Reason::kMechanismParamInvalid, "ECDH derivation failed");
  }
  z.Resize(len);
  return z;
}

Result<SecretBytes> X963Kdf(MechanismType hash_mech, const SecretBytes& z, std::span<const uint8_t> info,
                            size_t out_len) {
  CV_ASSIGN_OR_RETURN(HashInfo hash, HashByMech(hash_mech));
  ossl::UniquePtr<EVP_KDF> kdf(EVP_KDF_fetch(crypto::LibCtx(), "X963KDF", nullptr));
  ossl::UniquePtr<EVP_KDF_CTX> ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
  if (ctx == nullptr) return ossl::OpenSslError("EVP_KDF_fetch(X963KDF)");
  std::span<const uint8_t> zb = z.Bytes(SecretAccess::Get());
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(EVP_MD_get0_name(hash.md)), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(zb.data()), zb.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<uint8_t*>(info.data()), info.size()),
      OSSL_PARAM_construct_end()};
  SecretBytes out(out_len);
  if (EVP_KDF_derive(ctx.get(), out.MutableBytes(SecretAccess::Get()).data(), out_len, params) != 1) {
    return ossl::OpenSslError("EVP_KDF_derive(X963KDF)");
  }
  return out;
}

// OutputLength: CKA_VALUE_LEN, or for generic secrets the natural length.
Result<size_t> OutputLength(const AttributeSet& tmpl, KeyType type, size_t natural) {
  auto len = tmpl.GetUlong(CKA_VALUE_LEN);
  if (len.has_value()) return static_cast<size_t>(*len);
  if (type == CKK_AES) return Status(Reason::kTemplateIncomplete, "CKA_VALUE_LEN is required for AES");
  return natural;
}

}  // namespace

Result<NewKey> DeriveKey(const Mechanism& mech, const ReadyKey& base_key, const AttributeSet& tmpl) {
  CV_RETURN_IF_ERROR(selftest::ErrorStateStatus());  // docs/design/selftest.md
  if (mech.type != CKM_ECDH1_DERIVE) return Status(Reason::kMechanismInvalid, "not a derivation mechanism");
  const auto* p = std::get_if<Ecdh1DeriveParams>(&mech.params);
  if (p == nullptr) return Status(Reason::kMechanismParamInvalid, "ECDH needs CK_ECDH1_DERIVE_PARAMS");
  if (base_key.object_class != CKO_PRIVATE_KEY || base_key.pkey == nullptr ||
      (base_key.key_type != CKK_EC && base_key.key_type != CKK_EC_MONTGOMERY)) {
    return Status(Reason::kKeyTypeInconsistent, "ECDH needs an EC or Montgomery private key");
  }
  if (p->kdf == CKD_NULL && !p->shared_data.empty()) {
    return Status(Reason::kMechanismParamInvalid, "CKD_NULL takes no shared data");
  }
  KeyType type = tmpl.GetUlong(CKA_KEY_TYPE).value_or(CKK_GENERIC_SECRET);
  CV_ASSIGN_OR_RETURN(PkeyPtr peer, PeerKey(base_key, p->public_data));
  CV_ASSIGN_OR_RETURN(SecretBytes z, SharedSecret(base_key, peer.get()));
  SecretBytes value;
  if (p->kdf == CKD_NULL) {
    CV_ASSIGN_OR_RETURN(size_t len, OutputLength(tmpl, type, z.size()));
    if (len > z.size()) return Status(Reason::kTemplateInconsistent, "CKA_VALUE_LEN exceeds the shared secret");
    value = std::move(z);
    value.Resize(len);  // keeps the leading bytes
  } else {
    CV_ASSIGN_OR_RETURN(MechanismType hash_mech, KdfHash(p->kdf));
    CV_ASSIGN_OR_RETURN(HashInfo hash, HashByMech(hash_mech));
    CV_ASSIGN_OR_RETURN(size_t len, OutputLength(tmpl, type, hash.size));
    CV_RETURN_IF_ERROR(CheckSecretKey(type, len));
    CV_ASSIGN_OR_RETURN(value, X963Kdf(hash_mech, z, p->shared_data, len));
  }
  CV_RETURN_IF_ERROR(CheckSecretKey(type, value.size()));
  NewKey out;
  out.attrs.SetUlong(CKA_CLASS, CKO_SECRET_KEY);
  out.attrs.SetUlong(CKA_KEY_TYPE, type);
  out.attrs.SetUlong(CKA_VALUE_LEN, value.size());
  out.material = std::move(value);
  return out;
}

}  // namespace certvault::engine
