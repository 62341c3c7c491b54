// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/p11/p11_module.h"

#include <map>
#include <mutex>
#include <vector>

#include "src/base/status_macros.h"

namespace certvault::ca {

Result<std::shared_ptr<P11Module>> P11Module::Load(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<P11Module>> loaded;
  std::lock_guard<std::mutex> lock(mu);
  if (auto existing = loaded[path].lock()) return existing;
  CV_ASSIGN_OR_RETURN(std::shared_ptr<P11Module> module, LoadNew(path));
  loaded[path] = module;
  return module;
}

Result<std::shared_ptr<P11Module>> P11Module::LoadNew(const std::string& path) {
  CV_ASSIGN_OR_RETURN(std::unique_ptr<Pkcs11Library> lib, Pkcs11Library::Open(path, true));
  return std::shared_ptr<P11Module>(new P11Module(std::move(lib)));
}

Result<CK_SLOT_ID> P11Module::FindTokenSlot(std::string_view label) const {
  CK_ULONG count = 0;
  CV_RETURN_IF_ERROR(CheckRv(fn_->C_GetSlotList(CK_TRUE, nullptr, &count), "C_GetSlotList"));
  std::vector<CK_SLOT_ID> slots(count);
  CV_RETURN_IF_ERROR(CheckRv(fn_->C_GetSlotList(CK_TRUE, slots.data(), &count), "C_GetSlotList"));
  for (CK_ULONG i = 0; i < count; ++i) {
    CK_TOKEN_INFO info;
    if (fn_->C_GetTokenInfo(slots[i], &info) != CKR_OK) continue;
    std::string_view got(reinterpret_cast<const char*>(info.label), sizeof(info.label));
    while (!got.empty() && got.back() == ' ') got.remove_suffix(1);
    if (got == label) return slots[i];
  }
  return NotFoundError("no token labelled '" + std::string(label) + "'");
}

Result<CK_SESSION_HANDLE> P11Module::OpenSession(CK_SLOT_ID slot) const {
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  CV_RETURN_IF_ERROR(CheckRv(fn_->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &session),
                             "C_OpenSession"));
  return session;
}

Status P11Module::Login(CK_SESSION_HANDLE session, const SecretBytes& pin) const {
  std::span<const uint8_t> p = pin.Bytes(SecretAccess::Get());
  CK_RV rv = fn_->C_Login(session, CKU_USER, const_cast<CK_UTF8CHAR_PTR>(p.data()), p.size());
  if (rv == CKR_USER_ALREADY_LOGGED_IN) return OkStatus();
  return CheckRv(rv, "C_Login");
}

void P11Module::CloseSession(CK_SESSION_HANDLE session) const { fn_->C_CloseSession(session); }

Result<bool> P11Module::AlwaysAuthenticate(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key) const {
  CK_BBOOL value = CK_FALSE;
  CK_ATTRIBUTE attr{CKA_ALWAYS_AUTHENTICATE, &value, sizeof(value)};
  CK_RV rv = fn_->C_GetAttributeValue(session, key, &attr, 1);
  if (rv == CKR_ATTRIBUTE_TYPE_INVALID) return false;
  CV_RETURN_IF_ERROR(CheckRv(rv, "C_GetAttributeValue(CKA_ALWAYS_AUTHENTICATE)"));
  return value == CK_TRUE;
}

}  // namespace certvault::ca
