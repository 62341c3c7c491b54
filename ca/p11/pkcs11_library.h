// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Pkcs11Library: a PKCS#11 module (.so) loaded with dlopen(RTLD_NOW |
// RTLD_LOCAL), its CK_FUNCTION_LIST from C_GetFunctionList, and
// C_Initialize(CKF_OS_LOCKING_OK) done. The one loader of the CA (P11Module)
// and of the benchmarks (bench/p11_loader.cc), built as the small library
// cv_p11 so that bench/ can use it without the rest of the CA.
//
// Thread-safety: fn() may be used from any thread (OS locking requested).
#ifndef CERTVAULT_CA_P11_PKCS11_LIBRARY_H_
#define CERTVAULT_CA_P11_PKCS11_LIBRARY_H_

#include <memory>
#include <string>
#include <string_view>

#include "src/base/result.h"
#include "third_party/pkcs11/pkcs11.h"

namespace certvault::ca {

// CheckRv: CKR_OK -> OK; else a Status naming `fn` and the CK_RV (never
// data). A rejected or locked PIN is kPermissionDenied, the rest kInternal.
Status CheckRv(CK_RV rv, std::string_view fn);

class Pkcs11Library {
 public:
  // Open: kNotFound when `path` does not load or lacks C_GetFunctionList (or
  // it fails); C_Initialize failures as CheckRv. With `allow_initialized`,
  // CKR_CRYPTOKI_ALREADY_INITIALIZED counts as success.
  static Result<std::unique_ptr<Pkcs11Library>> Open(const std::string& path, bool allow_initialized);
  ~Pkcs11Library();  // C_Finalize, then dlclose
  Pkcs11Library(const Pkcs11Library&) = delete;
  Pkcs11Library& operator=(const Pkcs11Library&) = delete;

  CK_FUNCTION_LIST* fn() const { return fn_; }

 private:
  Pkcs11Library(void* handle, CK_FUNCTION_LIST* fn) : handle_(handle), fn_(fn) {}
  void* handle_;
  CK_FUNCTION_LIST* fn_;
};

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_P11_PKCS11_LIBRARY_H_
