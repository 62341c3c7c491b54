// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/p11/pkcs11_library.h"

#include <dlfcn.h>

#include <cstdio>

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

Result<std::unique_ptr<Pkcs11Library>> Pkcs11Library::Open(const std::string& path, bool allow_initialized) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return NotFoundError("cannot load PKCS#11 module " + path + (why != nullptr ? std::string(": ") + why : ""));
  }
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(dlsym(handle, "C_GetFunctionList"));
  CK_FUNCTION_LIST* fn = nullptr;
  if (get_list == nullptr || get_list(&fn) != CKR_OK || fn == nullptr) {
    dlclose(handle);
    return NotFoundError("C_GetFunctionList missing or failed in " + path);
  }
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  CK_RV rv = fn->C_Initialize(&args);
  if (rv != CKR_OK && !(allow_initialized && rv == CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
    dlclose(handle);
    return CheckRv(rv, "C_Initialize");
  }
  return std::unique_ptr<Pkcs11Library>(new Pkcs11Library(handle, fn));
}

Pkcs11Library::~Pkcs11Library() {
  fn_->C_Finalize(nullptr);
  dlclose(handle_);
}

}  // namespace certvault::ca
