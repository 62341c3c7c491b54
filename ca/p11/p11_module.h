// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// P11Module: a PKCS#11 module loaded with dlopen (certvault's own module,
// SoftHSM2 or any other). The CA reaches its keys only through this: key
// generation with C_GenerateKeyPair in the token and signing with C_Sign.
// Private keys are never extracted (CKA_SENSITIVE, !CKA_EXTRACTABLE).
//
// Thread-safety: the module is initialized with CKF_OS_LOCKING_OK; every
// method is safe to call concurrently, each on its own session.
#ifndef CERTVAULT_CA_P11_P11_MODULE_H_
#define CERTVAULT_CA_P11_P11_MODULE_H_

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "ca/p11/pkcs11_library.h"
#include "third_party/pkcs11/pkcs11.h"

namespace certvault::ca {

class P11Module {
 public:
  // Load dlopens `path` and calls C_Initialize. kNotFound when the file does
  // not load, kInternal when C_GetFunctionList/C_Initialize fail. A module is
  // loaded once per process: C_Initialize/C_Finalize are process-wide, so
  // every caller with the same path shares one P11Module, and C_Finalize runs
  // when the last reference goes.
  static Result<std::shared_ptr<P11Module>> Load(const std::string& path);
  ~P11Module() = default;  // the library: C_Finalize, then dlclose
  P11Module(const P11Module&) = delete;
  P11Module& operator=(const P11Module&) = delete;

  CK_FUNCTION_LIST* fn() const { return lib_->fn(); }
  // FindTokenSlot: the slot whose token label is `label` (kNotFound otherwise).
  Result<CK_SLOT_ID> FindTokenSlot(std::string_view label) const;
  // OpenSession: a R/W session on `slot`.
  Result<CK_SESSION_HANDLE> OpenSession(CK_SLOT_ID slot) const;
  // Login as CKU_USER; an already logged-in token counts as success. The PIN
  // is passed through and not retained.
  Status Login(CK_SESSION_HANDLE session, const SecretBytes& pin) const;
  void CloseSession(CK_SESSION_HANDLE session) const;
  // AlwaysAuthenticate: CKA_ALWAYS_AUTHENTICATE of private key `key`. A
  // module that does not know the attribute (CKR_ATTRIBUTE_TYPE_INVALID) has
  // no such keys: false.
  Result<bool> AlwaysAuthenticate(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key) const;

 private:
  explicit P11Module(std::unique_ptr<Pkcs11Library> lib) : lib_(std::move(lib)), fn_(lib_->fn()) {}
  static Result<std::shared_ptr<P11Module>> LoadNew(const std::string& path);
  std::unique_ptr<Pkcs11Library> lib_;
  CK_FUNCTION_LIST* fn_;  // lib_->fn(), for brevity below
};

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_P11_P11_MODULE_H_
