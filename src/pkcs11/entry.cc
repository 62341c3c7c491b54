// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// C_* entry points, part 1: general purpose, slot and token, session and
// object management (PKCS#11 v3.0 §5.4 - §5.7). Each shim converts its
// arguments, calls the Backend and maps the Status with ToCkRv, inside
// GuardedCall. Cryptographic functions are in entry_crypto.cc, the interface
// functions and function lists in entry_v3.cc.
#include <algorithm>
#include <vector>

#include "src/base/status_macros.h"
#include "src/pkcs11/convert.h"
#include "src/pkcs11/guard.h"
#include "src/pkcs11/info.h"
#include "src/pkcs11/module.h"
#include "src/pkcs11/template.h"

using certvault::AttributeRequest;
using certvault::AttributeSet;
using certvault::Backend;
using certvault::MechanismInfo;
using certvault::OkStatus;
using certvault::Reason;
using certvault::SecretBytes;
using certvault::Status;
using certvault::pkcs11::GuardedCall;
using certvault::pkcs11::NotSupported;
using certvault::pkcs11::WithBackend;
using certvault::pkcs11::WithBackendInfo;
namespace p11 = certvault::pkcs11;

// --- General purpose (§5.4) ---

// C_Initialize: §5.4.1.
CK_RV C_Initialize(CK_VOID_PTR pInitArgs) {
  return GuardedCall([&] { return p11::InitializeModule(pInitArgs); });
}

// C_Finalize: §5.4.2.
CK_RV C_Finalize(CK_VOID_PTR pReserved) {
  return GuardedCall([&] { return p11::FinalizeModule(pReserved); });
}

// C_GetInfo: §5.4.3.
CK_RV C_GetInfo(CK_INFO_PTR pInfo) {
  return WithBackendInfo([&](Backend&) -> Status {
    if (pInfo == nullptr) return Status(Reason::kArgumentsBad);
    p11::FillInfo(pInfo);
    return OkStatus();
  });
}

// --- Slot and token management (§5.5) ---

// C_GetSlotList: §5.5.1.
CK_RV C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount) {
  return WithBackendInfo([&](Backend& b) -> Status {
    CV_ASSIGN_OR_RETURN(std::vector<uint64_t> slots, b.GetSlotList(tokenPresent != CK_FALSE));
    return p11::FillUlongList(slots, pSlotList, pulCount);
  });
}

// C_GetSlotInfo: §5.5.2.
CK_RV C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo) {
  return WithBackendInfo([&](Backend& b) -> Status {
    if (pInfo == nullptr) return Status(Reason::kArgumentsBad);
    CV_ASSIGN_OR_RETURN(certvault::SlotInfo info, b.GetSlotInfo(slotID));
    p11::FillSlotInfo(info, pInfo);
    return OkStatus();
  });
}

// C_GetTokenInfo: §5.5.3.
CK_RV C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo) {
  return WithBackendInfo([&](Backend& b) -> Status {
    if (pInfo == nullptr) return Status(Reason::kArgumentsBad);
    CV_ASSIGN_OR_RETURN(certvault::TokenInfo info, b.GetTokenInfo(slotID));
    p11::FillTokenInfo(info, pInfo);
    return OkStatus();
  });
}

// C_WaitForSlotEvent: §5.5.4. Slots never change in certvault.
CK_RV C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved) {
  return NotSupported();
}

// C_GetMechanismList: §5.5.5.
CK_RV C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList, CK_ULONG_PTR pulCount) {
  return WithBackendInfo([&](Backend& b) -> Status {
    CV_ASSIGN_OR_RETURN(std::vector<MechanismInfo> infos, b.GetMechanismList(slotID));
    std::vector<uint64_t> types;
    for (const MechanismInfo& info : infos) types.push_back(info.type);
    return p11::FillUlongList(types, pMechanismList, pulCount);
  });
}

// C_GetMechanismInfo: §5.5.6.
CK_RV C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo) {
  return WithBackendInfo([&](Backend& b) -> Status {
    if (pInfo == nullptr) return Status(Reason::kArgumentsBad);
    CV_ASSIGN_OR_RETURN(MechanismInfo info, b.GetMechanismInfo(slotID, type));
    p11::FillMechanismInfo(info, pInfo);
    return OkStatus();
  });
}

// C_InitToken: §5.5.7.
CK_RV C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pLabel) {
  return WithBackend([&](Backend& b) -> Status {
    CV_ASSIGN_OR_RETURN(SecretBytes so_pin, p11::PinFrom(pPin, ulPinLen));
    CV_ASSIGN_OR_RETURN(std::string label, p11::LabelFrom(pLabel));
    return b.InitToken(slotID, so_pin, label);
  });
}

// C_InitPIN: §5.5.8.
CK_RV C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen) {
  return WithBackend([&](Backend& b) -> Status {
    CV_ASSIGN_OR_RETURN(SecretBytes pin, p11::PinFrom(pPin, ulPinLen));
    return b.InitPin(hSession, pin);
  });
}

// C_SetPIN: §5.5.9.
CK_RV C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen, CK_UTF8CHAR_PTR pNewPin,
               CK_ULONG ulNewLen) {
  return WithBackend([&](Backend& b) -> Status {
    CV_ASSIGN_OR_RETURN(SecretBytes old_pin, p11::PinFrom(pOldPin, ulOldLen));
    CV_ASSIGN_OR_RETURN(SecretBytes new_pin, p11::PinFrom(pNewPin, ulNewLen));
    return b.SetPin(hSession, old_pin, new_pin);
  });
}

// --- Session management (§5.6) ---

// C_OpenSession: §5.6.1. Notification callbacks are never called.
CK_RV C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, CK_NOTIFY Notify,
                    CK_SESSION_HANDLE_PTR phSession) {
  return WithBackend([&](Backend& b) -> Status {
    if (phSession == nullptr) return Status(Reason::kArgumentsBad);
    CV_ASSIGN_OR_RETURN(*phSession, b.OpenSession(slotID, flags));
    return OkStatus();
  });
}

// C_CloseSession: §5.6.2.
CK_RV C_CloseSession(CK_SESSION_HANDLE hSession) {
  return WithBackendInfo([&](Backend& b) { return b.CloseSession(hSession); });
}

// C_CloseAllSessions: §5.6.3.
CK_RV C_CloseAllSessions(CK_SLOT_ID slotID) {
  return WithBackendInfo([&](Backend& b) { return b.CloseAllSessions(slotID); });
}

// C_GetSessionInfo: §5.6.4.
CK_RV C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo) {
  return WithBackendInfo([&](Backend& b) -> Status {
    if (pInfo == nullptr) return Status(Reason::kArgumentsBad);
    CV_ASSIGN_OR_RETURN(certvault::SessionInfo info, b.GetSessionInfo(hSession));
    p11::FillSessionInfo(info, pInfo);
    return OkStatus();
  });
}

// C_GetOperationState: §5.6.6. Operation state is never exported.
CK_RV C_GetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
                          CK_ULONG_PTR pulOperationStateLen) {
  return NotSupported();
}

// C_SetOperationState: §5.6.7.
CK_RV C_SetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState, CK_ULONG ulOperationStateLen,
                          CK_OBJECT_HANDLE hEncryptionKey, CK_OBJECT_HANDLE hAuthenticationKey) {
  return NotSupported();
}

// C_Login: §5.6.8.
CK_RV C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen) {
  return WithBackend([&](Backend& b) -> Status {
    CV_ASSIGN_OR_RETURN(certvault::UserType user, p11::ToUserType(userType));
    CV_ASSIGN_OR_RETURN(SecretBytes pin, p11::PinFrom(pPin, ulPinLen));
    return b.Login(hSession, user, pin);
  });
}

// C_Logout: §5.6.10.
CK_RV C_Logout(CK_SESSION_HANDLE hSession) {
  return WithBackendInfo([&](Backend& b) { return b.Logout(hSession); });
}

// --- Object management (§5.7) ---

// C_CreateObject: §5.7.1.
CK_RV C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                     CK_OBJECT_HANDLE_PTR phObject) {
  return WithBackend([&](Backend& b) -> Status {
    if (phObject == nullptr) return Status(Reason::kArgumentsBad);
    CV_ASSIGN_OR_RETURN(AttributeSet tmpl, p11::ParseTemplate(pTemplate, ulCount));
    CV_ASSIGN_OR_RETURN(*phObject, b.CreateObject(hSession, tmpl));
    return OkStatus();
  });
}

// C_CopyObject: §5.7.2.
CK_RV C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                   CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phNewObject) {
  return WithBackend([&](Backend& b) -> Status {
    if (phNewObject == nullptr) return Status(Reason::kArgumentsBad);
    CV_ASSIGN_OR_RETURN(AttributeSet tmpl, p11::ParseTemplate(pTemplate, ulCount));
    CV_ASSIGN_OR_RETURN(*phNewObject, b.CopyObject(hSession, hObject, tmpl));
    return OkStatus();
  });
}

// C_DestroyObject: §5.7.3.
CK_RV C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject) {
  return WithBackend([&](Backend& b) { return b.DestroyObject(hSession, hObject); });
}

// C_GetObjectSize: §5.7.4.
CK_RV C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize) {
  return WithBackend([&](Backend& b) -> Status {
    if (pulSize == nullptr) return Status(Reason::kArgumentsBad);
    CV_ASSIGN_OR_RETURN(*pulSize, b.GetObjectSize(hSession, hObject));
    return OkStatus();
  });
}

// C_GetAttributeValue: §5.7.5. Every entry is processed; see FillTemplate.
CK_RV C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                          CK_ULONG ulCount) {
  return WithBackend([&](Backend& b) -> CK_RV {
    auto requests = p11::MakeRequests(pTemplate, ulCount);
    if (!requests.ok()) return p11::ToCkRv(requests.status());
    Status status = b.GetAttributeValue(hSession, hObject, &*requests);
    if (!status.ok() && status.reason() != Reason::kAttributeSensitive &&
        status.reason() != Reason::kAttributeTypeInvalid) {
      return p11::ToCkRv(status);
    }
    return p11::FillTemplate(*requests, pTemplate, ulCount);
  });
}

// C_SetAttributeValue: §5.7.6.
CK_RV C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                          CK_ULONG ulCount) {
  return WithBackend([&](Backend& b) -> Status {
    CV_ASSIGN_OR_RETURN(AttributeSet tmpl, p11::ParseTemplate(pTemplate, ulCount));
    return b.SetAttributeValue(hSession, hObject, tmpl);
  });
}

// C_FindObjectsInit: §5.7.7.
CK_RV C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount) {
  return WithBackend([&](Backend& b) -> Status {
    CV_ASSIGN_OR_RETURN(AttributeSet tmpl, p11::ParseTemplate(pTemplate, ulCount));
    return b.FindObjectsInit(hSession, tmpl);
  });
}

// C_FindObjects: §5.7.8.
CK_RV C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject, CK_ULONG ulMaxObjectCount,
                    CK_ULONG_PTR pulObjectCount) {
  return WithBackend([&](Backend& b) -> Status {
    if (pulObjectCount == nullptr || (phObject == nullptr && ulMaxObjectCount > 0)) return Status(Reason::kArgumentsBad);
    CV_ASSIGN_OR_RETURN(std::vector<uint64_t> found, b.FindObjects(hSession, ulMaxObjectCount));
    *pulObjectCount = std::min<CK_ULONG>(found.size(), ulMaxObjectCount);  // the backend never exceeds max
    std::copy_n(found.begin(), *pulObjectCount, phObject);
    return OkStatus();
  });
}

// C_FindObjectsFinal: §5.7.9.
CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE hSession) {
  return WithBackend([&](Backend& b) { return b.FindObjectsFinal(hSession); });
}
