// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// C_* entry points, part 2: encryption, decryption, digests, signatures,
// dual-function and key management functions, random numbers and the legacy
// parallel functions (PKCS#11 v3.0 §5.8 - §5.19). See entry.cc.
//
// PKCS#11 §5.2: "C_Sign ... always terminates the active signing operation
// unless it returns CKR_BUFFER_TOO_SMALL or is a successful call (i.e., one
// which returns CKR_OK) to determine the length of the buffer needed": the
// backend implements that through OutBuf; WithOutBuf only converts lengths.
#include <optional>

#include "src/base/status_macros.h"
#include "src/pkcs11/convert.h"
#include "src/pkcs11/guard.h"
#include "src/pkcs11/mechanism.h"
#include "src/pkcs11/module.h"
#include "src/pkcs11/template.h"

using certvault::AttributeSet;
using certvault::Backend;
using certvault::Mechanism;
using certvault::OkStatus;
using certvault::OutBuf;
using certvault::Reason;
using certvault::Status;
using certvault::pkcs11::InputSpan;
using certvault::pkcs11::NotSupported;
using certvault::pkcs11::WithBackend;
using certvault::pkcs11::WithOutBuf;
namespace p11 = certvault::pkcs11;

namespace {

using Span = std::span<const uint8_t>;

using Kind = Backend::OperationKind;

// EndingOnShimError runs `body`. If `body` fails before it reaches the backend
// (the shim itself rejected an argument), the operation is ended here: PKCS#11
// §5.2 makes every error but CKR_BUFFER_TOO_SMALL terminate it, and errors the
// backend returns already do.
template <typename Body>
Status EndingOnShimError(Backend& b, CK_SESSION_HANDLE hSession, std::optional<Kind> kind, Body body) {
  bool reached = false;
  Status status = body(&reached);
  if (!status.ok() && !reached && kind) (void)b.CancelOperation(hSession, *kind);
  return status;
}

// InitOp: the shared body of the *Init functions. PKCS#11 v3.0: a NULL
// mechanism cancels the active operation.
template <typename Method>
CK_RV InitOp(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey, Method method,
             Kind kind) {
  return WithBackend([&](Backend& b) -> Status {
    if (pMechanism == nullptr) return b.CancelOperation(hSession, kind);
    CV_ASSIGN_OR_RETURN(Mechanism mech, p11::ParseMechanism(pMechanism));
    return (b.*method)(hSession, mech, hKey);
  });
}

// InOutOp: one input buffer, one output buffer (Encrypt, EncryptUpdate, ...).
template <typename Method>
CK_RV InOutOp(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pIn, CK_ULONG ulInLen, CK_BYTE_PTR pOut,
              CK_ULONG_PTR pulOutLen, Method method, Kind kind) {
  return WithBackend([&](Backend& b) -> Status {
    return EndingOnShimError(b, hSession, kind, [&](bool* reached) -> Status {
      CV_ASSIGN_OR_RETURN(Span in, InputSpan(pIn, ulInLen));
      return WithOutBuf(pOut, pulOutLen, [&](OutBuf out) {
        *reached = true;
        return (b.*method)(hSession, in, out);
      });
    });
  });
}

// OutOp: an output buffer only (EncryptFinal, DigestFinal, SignFinal, ...).
template <typename Method>
CK_RV OutOp(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOut, CK_ULONG_PTR pulOutLen, Method method, Kind kind) {
  return WithBackend([&](Backend& b) -> Status {
    return EndingOnShimError(b, hSession, kind, [&](bool* reached) -> Status {
      return WithOutBuf(pOut, pulOutLen, [&](OutBuf out) {
        *reached = true;
        return (b.*method)(hSession, out);
      });
    });
  });
}

// InOp: an input buffer only (DigestUpdate, SignUpdate, VerifyUpdate,
// VerifyFinal; SeedRandom, which has no operation: kind = nullopt).
template <typename Method>
CK_RV InOp(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pIn, CK_ULONG ulInLen, Method method, std::optional<Kind> kind) {
  return WithBackend([&](Backend& b) -> Status {
    return EndingOnShimError(b, hSession, kind, [&](bool* reached) -> Status {
      CV_ASSIGN_OR_RETURN(Span in, InputSpan(pIn, ulInLen));
      *reached = true;
      return (b.*method)(hSession, in);
    });
  });
}

}  // namespace

// --- Encryption (§5.8) ---

// C_EncryptInit: §5.8.1.
CK_RV C_EncryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey) {
  return InitOp(hSession, pMechanism, hKey, &Backend::EncryptInit, Kind::kEncrypt);
}

// C_Encrypt: §5.8.2.
CK_RV C_Encrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pEncryptedData,
                CK_ULONG_PTR pulEncryptedDataLen) {
  return InOutOp(hSession, pData, ulDataLen, pEncryptedData, pulEncryptedDataLen, &Backend::Encrypt, Kind::kEncrypt);
}

// C_EncryptUpdate: §5.8.3.
CK_RV C_EncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart,
                      CK_ULONG_PTR pulEncryptedPartLen) {
  return InOutOp(hSession, pPart, ulPartLen, pEncryptedPart, pulEncryptedPartLen, &Backend::EncryptUpdate, Kind::kEncrypt);
}

// C_EncryptFinal: §5.8.4.
CK_RV C_EncryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastEncryptedPart, CK_ULONG_PTR pulLastEncryptedPartLen) {
  return OutOp(hSession, pLastEncryptedPart, pulLastEncryptedPartLen, &Backend::EncryptFinal, Kind::kEncrypt);
}

// --- Decryption (§5.9) ---

// C_DecryptInit: §5.9.1.
CK_RV C_DecryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey) {
  return InitOp(hSession, pMechanism, hKey, &Backend::DecryptInit, Kind::kDecrypt);
}

// C_Decrypt: §5.9.2.
CK_RV C_Decrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData, CK_ULONG ulEncryptedDataLen,
                CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen) {
  return InOutOp(hSession, pEncryptedData, ulEncryptedDataLen, pData, pulDataLen, &Backend::Decrypt, Kind::kDecrypt);
}

// C_DecryptUpdate: §5.9.3.
CK_RV C_DecryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen,
                      CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen) {
  return InOutOp(hSession, pEncryptedPart, ulEncryptedPartLen, pPart, pulPartLen, &Backend::DecryptUpdate, Kind::kDecrypt);
}

// C_DecryptFinal: §5.9.4.
CK_RV C_DecryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart, CK_ULONG_PTR pulLastPartLen) {
  return OutOp(hSession, pLastPart, pulLastPartLen, &Backend::DecryptFinal, Kind::kDecrypt);
}

// --- Message digesting (§5.10) ---

// C_DigestInit: §5.10.1.
CK_RV C_DigestInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism) {
  return WithBackend([&](Backend& b) -> Status {
    if (pMechanism == nullptr) return b.CancelOperation(hSession, Kind::kDigest);  // v3.0: cancels
    CV_ASSIGN_OR_RETURN(Mechanism mech, p11::ParseMechanism(pMechanism));
    return b.DigestInit(hSession, mech);
  });
}

// C_Digest: §5.10.2.
CK_RV C_Digest(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pDigest,
               CK_ULONG_PTR pulDigestLen) {
  return InOutOp(hSession, pData, ulDataLen, pDigest, pulDigestLen, &Backend::Digest, Kind::kDigest);
}

// C_DigestUpdate: §5.10.3.
CK_RV C_DigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen) {
  return InOp(hSession, pPart, ulPartLen, &Backend::DigestUpdate, Kind::kDigest);
}

// C_DigestKey: §5.10.4.
CK_RV C_DigestKey(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hKey) {
  return WithBackend([&](Backend& b) { return b.DigestKey(hSession, hKey); });
}

// C_DigestFinal: §5.10.5.
CK_RV C_DigestFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen) {
  return OutOp(hSession, pDigest, pulDigestLen, &Backend::DigestFinal, Kind::kDigest);
}

// --- Signing and MACing (§5.11) ---

// C_SignInit: §5.11.1.
CK_RV C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey) {
  return InitOp(hSession, pMechanism, hKey, &Backend::SignInit, Kind::kSign);
}

// C_Sign: §5.11.2.
CK_RV C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
             CK_ULONG_PTR pulSignatureLen) {
  return InOutOp(hSession, pData, ulDataLen, pSignature, pulSignatureLen, &Backend::Sign, Kind::kSign);
}

// C_SignUpdate: §5.11.3.
CK_RV C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen) {
  return InOp(hSession, pPart, ulPartLen, &Backend::SignUpdate, Kind::kSign);
}

// C_SignFinal: §5.11.4.
CK_RV C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen) {
  return OutOp(hSession, pSignature, pulSignatureLen, &Backend::SignFinal, Kind::kSign);
}

// C_SignRecoverInit: §5.11.5. Signatures with message recovery are not offered.
CK_RV C_SignRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey) {
  return NotSupported();
}

// C_SignRecover: §5.11.6.
CK_RV C_SignRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                    CK_ULONG_PTR pulSignatureLen) {
  return NotSupported();
}

// --- Verifying signatures and MACs (§5.12) ---

// C_VerifyInit: §5.12.1.
CK_RV C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey) {
  return InitOp(hSession, pMechanism, hKey, &Backend::VerifyInit, Kind::kVerify);
}

// C_Verify: §5.12.2.
CK_RV C_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
               CK_ULONG ulSignatureLen) {
  return WithBackend([&](Backend& b) -> Status {
    return EndingOnShimError(b, hSession, Kind::kVerify, [&](bool* reached) -> Status {
      CV_ASSIGN_OR_RETURN(Span data, InputSpan(pData, ulDataLen));
      CV_ASSIGN_OR_RETURN(Span signature, InputSpan(pSignature, ulSignatureLen));
      *reached = true;
      return b.Verify(hSession, data, signature);
    });
  });
}

// C_VerifyUpdate: §5.12.3.
CK_RV C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen) {
  return InOp(hSession, pPart, ulPartLen, &Backend::VerifyUpdate, Kind::kVerify);
}

// C_VerifyFinal: §5.12.4.
CK_RV C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen) {
  return InOp(hSession, pSignature, ulSignatureLen, &Backend::VerifyFinal, Kind::kVerify);
}

// C_VerifyRecoverInit: §5.12.5.
CK_RV C_VerifyRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey) {
  return NotSupported();
}

// C_VerifyRecover: §5.12.6.
CK_RV C_VerifyRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen, CK_BYTE_PTR pData,
                      CK_ULONG_PTR pulDataLen) {
  return NotSupported();
}

// --- Dual-function cryptographic functions (§5.13): not offered ---

// C_DigestEncryptUpdate: §5.13.1.
CK_RV C_DigestEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                            CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen) {
  return NotSupported();
}

// C_DecryptDigestUpdate: §5.13.2.
CK_RV C_DecryptDigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen,
                            CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen) {
  return NotSupported();
}

// C_SignEncryptUpdate: §5.13.3.
CK_RV C_SignEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                          CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen) {
  return NotSupported();
}

// C_DecryptVerifyUpdate: §5.13.4.
CK_RV C_DecryptVerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen,
                            CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen) {
  return NotSupported();
}

// --- Key management (§5.14) ---

// C_GenerateKey: §5.14.1.
CK_RV C_GenerateKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_ATTRIBUTE_PTR pTemplate,
                    CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey) {
  return WithBackend([&](Backend& b) -> Status {
    if (phKey == nullptr) return Status(Reason::kArgumentsBad);
    CV_ASSIGN_OR_RETURN(Mechanism mech, p11::ParseMechanism(pMechanism));
    CV_ASSIGN_OR_RETURN(AttributeSet tmpl, p11::ParseTemplate(pTemplate, ulCount));
    CV_ASSIGN_OR_RETURN(*phKey, b.GenerateKey(hSession, mech, tmpl));
    return OkStatus();
  });
}

// C_GenerateKeyPair: §5.14.2.
CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_ATTRIBUTE_PTR pPublicKeyTemplate,
                        CK_ULONG ulPublicKeyAttributeCount, CK_ATTRIBUTE_PTR pPrivateKeyTemplate,
                        CK_ULONG ulPrivateKeyAttributeCount, CK_OBJECT_HANDLE_PTR phPublicKey,
                        CK_OBJECT_HANDLE_PTR phPrivateKey) {
  return WithBackend([&](Backend& b) -> Status {
    if (phPublicKey == nullptr || phPrivateKey == nullptr) return Status(Reason::kArgumentsBad);
    CV_ASSIGN_OR_RETURN(Mechanism mech, p11::ParseMechanism(pMechanism));
    CV_ASSIGN_OR_RETURN(AttributeSet pub, p11::ParseTemplate(pPublicKeyTemplate, ulPublicKeyAttributeCount));
    CV_ASSIGN_OR_RETURN(AttributeSet priv, p11::ParseTemplate(pPrivateKeyTemplate, ulPrivateKeyAttributeCount));
    CV_ASSIGN_OR_RETURN(Backend::KeyPair pair, b.GenerateKeyPair(hSession, mech, pub, priv));
    *phPublicKey = pair.public_key;
    *phPrivateKey = pair.private_key;
    return OkStatus();
  });
}

// C_WrapKey: §5.14.3.
CK_RV C_WrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hWrappingKey,
                CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey, CK_ULONG_PTR pulWrappedKeyLen) {
  return WithBackend([&](Backend& b) -> Status {
    CV_ASSIGN_OR_RETURN(Mechanism mech, p11::ParseMechanism(pMechanism));
    return WithOutBuf(pWrappedKey, pulWrappedKeyLen,
                      [&](OutBuf out) { return b.WrapKey(hSession, mech, hWrappingKey, hKey, out); });
  });
}

// C_UnwrapKey: §5.14.4.
CK_RV C_UnwrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hUnwrappingKey,
                  CK_BYTE_PTR pWrappedKey, CK_ULONG ulWrappedKeyLen, CK_ATTRIBUTE_PTR pTemplate,
                  CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey) {
  return WithBackend([&](Backend& b) -> Status {
    if (phKey == nullptr) return Status(Reason::kArgumentsBad);
    CV_ASSIGN_OR_RETURN(Mechanism mech, p11::ParseMechanism(pMechanism));
    CV_ASSIGN_OR_RETURN(Span wrapped, InputSpan(pWrappedKey, ulWrappedKeyLen));
    CV_ASSIGN_OR_RETURN(AttributeSet tmpl, p11::ParseTemplate(pTemplate, ulAttributeCount));
    CV_ASSIGN_OR_RETURN(*phKey, b.UnwrapKey(hSession, mech, hUnwrappingKey, wrapped, tmpl));
    return OkStatus();
  });
}

// C_DeriveKey: §5.14.5.
CK_RV C_DeriveKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hBaseKey,
                  CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey) {
  return WithBackend([&](Backend& b) -> Status {
    if (phKey == nullptr) return Status(Reason::kArgumentsBad);
    CV_ASSIGN_OR_RETURN(Mechanism mech, p11::ParseMechanism(pMechanism));
    CV_ASSIGN_OR_RETURN(AttributeSet tmpl, p11::ParseTemplate(pTemplate, ulAttributeCount));
    CV_ASSIGN_OR_RETURN(*phKey, b.DeriveKey(hSession, mech, hBaseKey, tmpl));
    return OkStatus();
  });
}

// --- Random number generation (§5.15) ---

// C_SeedRandom: §5.15.1.
CK_RV C_SeedRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen) {
  return InOp(hSession, pSeed, ulSeedLen, &Backend::SeedRandom, std::nullopt);
}

// C_GenerateRandom: §5.15.2.
CK_RV C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR RandomData, CK_ULONG ulRandomLen) {
  return WithBackend([&](Backend& b) -> Status {
    CV_ASSIGN_OR_RETURN(std::span<uint8_t> out, p11::OutputSpan(RandomData, ulRandomLen));
    return b.GenerateRandom(hSession, out);
  });
}

// --- Parallel function management (§5.16): legacy ---

// C_GetFunctionStatus: §5.16.1. "always returns CKR_FUNCTION_NOT_PARALLEL".
CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE hSession) { return NotSupported(CKR_FUNCTION_NOT_PARALLEL); }

// C_CancelFunction: §5.16.2. Same.
CK_RV C_CancelFunction(CK_SESSION_HANDLE hSession) { return NotSupported(CKR_FUNCTION_NOT_PARALLEL); }
