// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// C_* entry points, part 3: the function lists, the v3.0 interface functions
// (§5.2 - §5.3), C_LoginUser and C_SessionCancel (§5.6), and the message-based
// functions (§5.8 - §5.12), which certvault does not offer.
//
// Only C_GetFunctionList, C_GetInterfaceList and C_GetInterface are exported
// (CV_PKCS11_EXPORT here, exports.map at link time); applications reach every
// other function through a list.
#include <cstring>

#include "src/base/status_macros.h"
#include "src/pkcs11/convert.h"
#include "src/pkcs11/guard.h"
#include "src/pkcs11/module.h"

#define CV_PKCS11_EXPORT __attribute__((visibility("default")))

using certvault::Backend;
using certvault::OkStatus;
using certvault::Reason;
using certvault::SecretBytes;
using certvault::Status;
using certvault::pkcs11::GuardedCall;
using certvault::pkcs11::NotSupported;
using certvault::pkcs11::WithBackend;
namespace p11 = certvault::pkcs11;

namespace {

#define CV_V240_FUNCTIONS                                                                                        \
  C_Initialize, C_Finalize, C_GetInfo, C_GetFunctionList, C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo,          \
      C_GetMechanismList, C_GetMechanismInfo, C_InitToken, C_InitPIN, C_SetPIN, C_OpenSession, C_CloseSession,   \
      C_CloseAllSessions, C_GetSessionInfo, C_GetOperationState, C_SetOperationState, C_Login, C_Logout,         \
      C_CreateObject, C_CopyObject, C_DestroyObject, C_GetObjectSize, C_GetAttributeValue, C_SetAttributeValue,  \
      C_FindObjectsInit, C_FindObjects, C_FindObjectsFinal, C_EncryptInit, C_Encrypt, C_EncryptUpdate,           \
      C_EncryptFinal, C_DecryptInit, C_Decrypt, C_DecryptUpdate, C_DecryptFinal, C_DigestInit, C_Digest,         \
      C_DigestUpdate, C_DigestKey, C_DigestFinal, C_SignInit, C_Sign, C_SignUpdate, C_SignFinal,                 \
      C_SignRecoverInit, C_SignRecover, C_VerifyInit, C_Verify, C_VerifyUpdate, C_VerifyFinal,                   \
      C_VerifyRecoverInit, C_VerifyRecover, C_DigestEncryptUpdate, C_DecryptDigestUpdate, C_SignEncryptUpdate,   \
      C_DecryptVerifyUpdate, C_GenerateKey, C_GenerateKeyPair, C_WrapKey, C_UnwrapKey, C_DeriveKey,              \
      C_SeedRandom, C_GenerateRandom, C_GetFunctionStatus, C_CancelFunction, C_WaitForSlotEvent

// The lists are constant-initialized, never written, and never destroyed.
CK_FUNCTION_LIST g_function_list_240 = {{2, 40}, CV_V240_FUNCTIONS};

CK_FUNCTION_LIST_3_0 g_function_list_30 = {
    {3, 0},
    CV_V240_FUNCTIONS,
    C_GetInterfaceList, C_GetInterface, C_LoginUser, C_SessionCancel,
    C_MessageEncryptInit, C_EncryptMessage, C_EncryptMessageBegin, C_EncryptMessageNext, C_MessageEncryptFinal,
    C_MessageDecryptInit, C_DecryptMessage, C_DecryptMessageBegin, C_DecryptMessageNext, C_MessageDecryptFinal,
    C_MessageSignInit, C_SignMessage, C_SignMessageBegin, C_SignMessageNext, C_MessageSignFinal,
    C_MessageVerifyInit, C_VerifyMessage, C_VerifyMessageBegin, C_VerifyMessageNext, C_MessageVerifyFinal};

#undef CV_V240_FUNCTIONS

CK_CHAR g_interface_name[] = "PKCS 11";

// No CKF_INTERFACE_FORK_SAFE: a forked child must call C_Initialize again
// (see module.h), which is not the spec's fork-safe semantics.
CK_INTERFACE g_interfaces[] = {
    {g_interface_name, &g_function_list_30, 0},  // the default interface comes first
    {g_interface_name, &g_function_list_240, 0},
};
constexpr CK_ULONG kInterfaceCount = sizeof(g_interfaces) / sizeof(g_interfaces[0]);

CK_VERSION VersionOf(const CK_INTERFACE& iface) { return *static_cast<const CK_VERSION*>(iface.pFunctionList); }

// Matches: §5.3 C_GetInterface selection: a NULL name or version matches any.
bool Matches(const CK_INTERFACE& iface, const CK_UTF8CHAR* name, const CK_VERSION* version, CK_FLAGS flags) {
  if (name != nullptr && std::strcmp(reinterpret_cast<const char*>(name), "PKCS 11") != 0) return false;
  CK_VERSION v = VersionOf(iface);
  if (version != nullptr && (version->major != v.major || version->minor != v.minor)) return false;
  return (iface.flags & flags) == flags;
}

}  // namespace

// C_GetFunctionList: §5.2 (v2.40 list, version 2.40).
CV_PKCS11_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList) {
  if (ppFunctionList == nullptr) return CKR_ARGUMENTS_BAD;
  *ppFunctionList = &g_function_list_240;
  return CKR_OK;
}

// C_GetInterfaceList: §5.2 (v3.0). Usable before C_Initialize.
CV_PKCS11_EXPORT CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount) {
  if (pulCount == nullptr) return CKR_ARGUMENTS_BAD;
  CK_ULONG capacity = *pulCount;
  *pulCount = kInterfaceCount;
  if (pInterfacesList == nullptr) return CKR_OK;
  if (capacity < kInterfaceCount) return CKR_BUFFER_TOO_SMALL;
  std::memcpy(pInterfacesList, g_interfaces, sizeof(g_interfaces));
  return CKR_OK;
}

// C_GetInterface: §5.3 (v3.0). NULL name: the default interface (v3.0) unless
// a version or flags select another.
CV_PKCS11_EXPORT CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
                                      CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags) {
  if (ppInterface == nullptr) return CKR_ARGUMENTS_BAD;
  for (CK_INTERFACE& iface : g_interfaces) {
    if (!Matches(iface, pInterfaceName, pVersion, flags)) continue;
    *ppInterface = &iface;
    return CKR_OK;
  }
  return CKR_ARGUMENTS_BAD;  // §5.3: no interface matches
}

// C_LoginUser: §5.6.9. certvault has one user per role: the user name must
// be empty (NULL or length 0), else CKR_ARGUMENTS_BAD.
CK_RV C_LoginUser(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen,
                  CK_UTF8CHAR_PTR pUsername, CK_ULONG ulUsernameLen) {
  return WithBackend([&](Backend& b) -> Status {
    CV_RETURN_IF_ERROR(p11::InputSpan(pUsername, ulUsernameLen).status());
    if (ulUsernameLen != 0) return Status(Reason::kArgumentsBad, "certvault users have no name");
    CV_ASSIGN_OR_RETURN(certvault::UserType user, p11::ToUserType(userType));
    CV_ASSIGN_OR_RETURN(SecretBytes pin, p11::PinFrom(pPin, ulPinLen));
    return b.Login(hSession, user, pin);
  });
}

// C_SessionCancel: §5.6.5.
CK_RV C_SessionCancel(CK_SESSION_HANDLE hSession, CK_FLAGS flags) { return NotSupported(); }

// --- Message-based functions (§5.8, §5.9, §5.11, §5.12): not offered ---

// C_MessageEncryptInit: §5.8.5.
CK_RV C_MessageEncryptInit(CK_SESSION_HANDLE, CK_MECHANISM_PTR, CK_OBJECT_HANDLE) { return NotSupported(); }
// C_EncryptMessage: §5.8.6.
CK_RV C_EncryptMessage(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG,
                       CK_BYTE_PTR, CK_ULONG_PTR) {
  return NotSupported();
}
// C_EncryptMessageBegin: §5.8.7.
CK_RV C_EncryptMessageBegin(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG) { return NotSupported(); }
// C_EncryptMessageNext: §5.8.8.
CK_RV C_EncryptMessageNext(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR,
                           CK_FLAGS) {
  return NotSupported();
}
// C_MessageEncryptFinal: §5.8.9.
CK_RV C_MessageEncryptFinal(CK_SESSION_HANDLE) { return NotSupported(); }

// C_MessageDecryptInit: §5.9.5.
CK_RV C_MessageDecryptInit(CK_SESSION_HANDLE, CK_MECHANISM_PTR, CK_OBJECT_HANDLE) { return NotSupported(); }
// C_DecryptMessage: §5.9.6.
CK_RV C_DecryptMessage(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG,
                       CK_BYTE_PTR, CK_ULONG_PTR) {
  return NotSupported();
}
// C_DecryptMessageBegin: §5.9.7.
CK_RV C_DecryptMessageBegin(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG) { return NotSupported(); }
// C_DecryptMessageNext: §5.9.8.
CK_RV C_DecryptMessageNext(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR,
                           CK_FLAGS) {
  return NotSupported();
}
// C_MessageDecryptFinal: §5.9.9.
CK_RV C_MessageDecryptFinal(CK_SESSION_HANDLE) { return NotSupported(); }

// C_MessageSignInit: §5.11.7.
CK_RV C_MessageSignInit(CK_SESSION_HANDLE, CK_MECHANISM_PTR, CK_OBJECT_HANDLE) { return NotSupported(); }
// C_SignMessage: §5.11.8.
CK_RV C_SignMessage(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) {
  return NotSupported();
}
// C_SignMessageBegin: §5.11.9.
CK_RV C_SignMessageBegin(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG) { return NotSupported(); }
// C_SignMessageNext: §5.11.10.
CK_RV C_SignMessageNext(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) {
  return NotSupported();
}
// C_MessageSignFinal: §5.11.11.
CK_RV C_MessageSignFinal(CK_SESSION_HANDLE) { return NotSupported(); }

// C_MessageVerifyInit: §5.12.7.
CK_RV C_MessageVerifyInit(CK_SESSION_HANDLE, CK_MECHANISM_PTR, CK_OBJECT_HANDLE) { return NotSupported(); }
// C_VerifyMessage: §5.12.8.
CK_RV C_VerifyMessage(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG) {
  return NotSupported();
}
// C_VerifyMessageBegin: §5.12.9.
CK_RV C_VerifyMessageBegin(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG) { return NotSupported(); }
// C_VerifyMessageNext: §5.12.10.
CK_RV C_VerifyMessageNext(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG) {
  return NotSupported();
}
// C_MessageVerifyFinal: §5.12.11.
CK_RV C_MessageVerifyFinal(CK_SESSION_HANDLE) { return NotSupported(); }
