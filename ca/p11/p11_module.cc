// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/p11/p11_module.h"

#include <dlfcn.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <vector>

#include "src/base/status_macros.h"

namespace certvault::ca {

Status CheckRv(CK_RV rv, std::string_view fn) {
  if (rv == CKR_OK) return OkStatus();
  char buf[48];
  std::snprintf(buf, sizeof(buf), " failed: CK_RV 0x%lx", static_cast<unsigned long>(rv));  // NOLINT(runtime/int)
  if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED) {
    return PermissionDeniedError(std::string(fn) + buf + " (token PIN rejected)");
  }
  return InternalError(std::string(fn) + buf);
}

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
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return NotFoundError("cannot load PKCS#11 module " + path);
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(dlsym(handle, "C_GetFunctionList"));
  CK_FUNCTION_LIST* fn = nullptr;
  if (get_list == nullptr || get_list(&fn) != CKR_OK || fn == nullptr) {
    dlclose(handle);
    return InternalError("C_GetFunctionList failed in " + path);
  }
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  CK_RV rv = fn->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    dlclose(handle);
    return CheckRv(rv, "C_Initialize");
  }
  return std::shared_ptr<P11Module>(new P11Module(handle, fn));
}

P11Module::~P11Module() {
  fn_->C_Finalize(nullptr);
  dlclose(handle_);
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

}  // namespace certvault::ca
