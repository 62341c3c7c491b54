// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/pkcs11/mechanism.h"

#include <span>

#include "src/base/status_macros.h"

namespace certvault::pkcs11 {
namespace {

Status ParamInvalid(std::string_view what) { return Status(Reason::kMechanismParamInvalid, what); }

// ParamAs: the parameter as a T, which it must be exactly the size of.
template <typename T>
Result<const T*> ParamAs(const CK_MECHANISM& mech) {
  if (mech.pParameter == nullptr || mech.ulParameterLen != sizeof(T)) {
    return ParamInvalid("mechanism parameter has the wrong size");
  }
  return static_cast<const T*>(mech.pParameter);
}

// CopyBytes: a (pointer, length) pair inside a parameter structure.
Result<Bytes> CopyBytes(const void* p, CK_ULONG len, size_t max_len = kMaxMechanismParamLen) {
  if (len == 0) return Bytes();
  if (p == nullptr || len > max_len) return ParamInvalid("bad buffer inside mechanism parameter");
  const auto* bytes = static_cast<const uint8_t*>(p);
  return Bytes(bytes, bytes + len);
}

bool IsPss(CK_MECHANISM_TYPE type) {
  switch (type) {
    case CKM_RSA_PKCS_PSS: case CKM_SHA1_RSA_PKCS_PSS: case CKM_SHA224_RSA_PKCS_PSS:
    case CKM_SHA256_RSA_PKCS_PSS: case CKM_SHA384_RSA_PKCS_PSS: case CKM_SHA512_RSA_PKCS_PSS:
    case CKM_SHA3_224_RSA_PKCS_PSS: case CKM_SHA3_256_RSA_PKCS_PSS: case CKM_SHA3_384_RSA_PKCS_PSS:
    case CKM_SHA3_512_RSA_PKCS_PSS:
      return true;
    default:
      return false;
  }
}

Result<MechanismParams> ParsePss(const CK_MECHANISM& mech) {
  CV_ASSIGN_OR_RETURN(const CK_RSA_PKCS_PSS_PARAMS* p, ParamAs<CK_RSA_PKCS_PSS_PARAMS>(mech));
  return MechanismParams(RsaPssParams{p->hashAlg, p->mgf, p->sLen});
}

Result<MechanismParams> ParseOaep(const CK_MECHANISM& mech) {
  CV_ASSIGN_OR_RETURN(const CK_RSA_PKCS_OAEP_PARAMS* p, ParamAs<CK_RSA_PKCS_OAEP_PARAMS>(mech));
  // PKCS#11 Mechanisms §2.1.8: source is CKZ_DATA_SPECIFIED (or 0 with no label).
  if (p->source != CKZ_DATA_SPECIFIED && (p->source != 0 || p->ulSourceDataLen != 0)) {
    return ParamInvalid("OAEP source must be CKZ_DATA_SPECIFIED");
  }
  CV_ASSIGN_OR_RETURN(Bytes label, CopyBytes(p->pSourceData, p->ulSourceDataLen));
  return MechanismParams(RsaOaepParams{p->hashAlg, p->mgf, p->source, std::move(label)});
}

Result<MechanismParams> ParseGcm(const CK_MECHANISM& mech) {
  CV_ASSIGN_OR_RETURN(const CK_GCM_PARAMS* p, ParamAs<CK_GCM_PARAMS>(mech));
  // IVs of 1..256 bytes (the spec's upper bound); tags of 0..128 bits.
  if (p->ulIvLen == 0 || p->ulTagBits > 128) return ParamInvalid("GCM IV or tag length");
  CV_ASSIGN_OR_RETURN(Bytes iv, CopyBytes(p->pIv, p->ulIvLen, 256));
  CV_ASSIGN_OR_RETURN(Bytes aad, CopyBytes(p->pAAD, p->ulAADLen));
  return MechanismParams(GcmParams{std::move(iv), p->ulIvBits, std::move(aad), p->ulTagBits});
}

Result<MechanismParams> ParseEcdh(const CK_MECHANISM& mech) {
  CV_ASSIGN_OR_RETURN(const CK_ECDH1_DERIVE_PARAMS* p, ParamAs<CK_ECDH1_DERIVE_PARAMS>(mech));
  if (p->ulPublicDataLen == 0) return ParamInvalid("ECDH public data is empty");
  CV_ASSIGN_OR_RETURN(Bytes shared, CopyBytes(p->pSharedData, p->ulSharedDataLen));
  CV_ASSIGN_OR_RETURN(Bytes pub, CopyBytes(p->pPublicData, p->ulPublicDataLen));
  return MechanismParams(Ecdh1DeriveParams{p->kdf, std::move(shared), std::move(pub)});
}

Result<MechanismParams> ParseEddsa(const CK_MECHANISM& mech) {
  // Current Mechanisms §2.3.14: the parameter is optional (pure Ed25519).
  if (mech.pParameter == nullptr && mech.ulParameterLen == 0) return MechanismParams();
  CV_ASSIGN_OR_RETURN(const CK_EDDSA_PARAMS* p, ParamAs<CK_EDDSA_PARAMS>(mech));
  if (p->ulContextDataLen > 255) return ParamInvalid("EdDSA context longer than 255 bytes");
  CV_ASSIGN_OR_RETURN(Bytes context, CopyBytes(p->pContextData, p->ulContextDataLen));
  return MechanismParams(EddsaParams{p->phFlag != CK_FALSE, std::move(context)});
}

Result<MechanismParams> ParseCbcIv(const CK_MECHANISM& mech) {
  if (mech.pParameter == nullptr || mech.ulParameterLen != 16) return ParamInvalid("CBC IV must be 16 bytes");
  CV_ASSIGN_OR_RETURN(Bytes iv, CopyBytes(mech.pParameter, mech.ulParameterLen));
  return MechanismParams(std::move(iv));
}

// CK_AES_CTR_PARAMS (Current Mechanisms v3.0, AES-CTR): ulCounterBits of
// the 16-byte counter block cb are the counter; the engine checks the range.
Result<MechanismParams> ParseCtr(const CK_MECHANISM& mech) {
  CV_ASSIGN_OR_RETURN(const CK_AES_CTR_PARAMS* p, ParamAs<CK_AES_CTR_PARAMS>(mech));
  return MechanismParams(AesCtrParams{p->ulCounterBits, Bytes(p->cb, p->cb + sizeof(p->cb))});
}

Result<MechanismParams> ParseOpaque(const CK_MECHANISM& mech) {
  if (mech.ulParameterLen == 0) return MechanismParams();
  CV_ASSIGN_OR_RETURN(Bytes bytes, CopyBytes(mech.pParameter, mech.ulParameterLen));
  return MechanismParams(std::move(bytes));
}

Result<MechanismParams> ParseParams(const CK_MECHANISM& mech) {
  if (IsPss(mech.mechanism)) return ParsePss(mech);
  switch (mech.mechanism) {
    case CKM_RSA_PKCS_OAEP: return ParseOaep(mech);
    case CKM_AES_GCM: return ParseGcm(mech);
    case CKM_ECDH1_DERIVE: case CKM_ECDH1_COFACTOR_DERIVE: return ParseEcdh(mech);
    case CKM_EDDSA: return ParseEddsa(mech);
    case CKM_AES_CBC: case CKM_AES_CBC_PAD: return ParseCbcIv(mech);
    case CKM_AES_CTR: return ParseCtr(mech);
    default: return ParseOpaque(mech);
  }
}

}  // namespace

Result<Mechanism> ParseMechanism(const CK_MECHANISM* pMechanism) {
  if (pMechanism == nullptr) return Status(Reason::kArgumentsBad, "mechanism is NULL");
  CV_ASSIGN_OR_RETURN(MechanismParams params, ParseParams(*pMechanism));
  return Mechanism{pMechanism->mechanism, std::move(params)};
}

}  // namespace certvault::pkcs11
