// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// P11Module: a minimal PKCS#11 client for the benchmark. It loads a module
// with ca::Pkcs11Library (dlopen, C_GetFunctionList, C_Initialize; shared
// with the CA), and offers the handful of helpers
// the scenarios need (token init, sessions, key generation). It is not a
// general-purpose client and is not thread-safe except where noted.
#ifndef CERTVAULT_BENCH_P11_LOADER_H_
#define CERTVAULT_BENCH_P11_LOADER_H_

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ca/p11/pkcs11_library.h"
#include "src/base/result.h"
#include "src/base/status.h"
#include "third_party/pkcs11/pkcs11.h"

namespace certvault::bench {

// CheckRv: CKR_OK -> OK, else a Status naming `fn` and the CK_RV (the CA's).
using ca::CheckRv;

// KeyKind: the signature key types the benchmark compares.
enum class KeyKind { kEcP256, kEd25519, kRsa2048 };
std::string_view KeyKindName(KeyKind kind);

struct KeyPair {
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;
};

class P11Module {
 public:
  // Load dlopens `path` (RTLD_NOW | RTLD_LOCAL) and calls C_Initialize with
  // CKF_OS_LOCKING_OK. Fails with kNotFound / kInternal; never aborts.
  static Result<std::unique_ptr<P11Module>> Load(const std::string& path);
  ~P11Module() = default;  // the library: C_Finalize, then dlclose
  P11Module(const P11Module&) = delete;
  P11Module& operator=(const P11Module&) = delete;

  CK_FUNCTION_LIST* fn() const { return fn_; }  // lib_->fn()

  // InitToken: C_InitToken on the first slot without an initialized token,
  // then C_InitPIN as SO; returns the slot that now holds `label`.
  Result<CK_SLOT_ID> InitToken(std::string_view label, std::string_view so_pin,
                               std::string_view user_pin);
  // FindTokenSlot: the slot whose token label is `label`, or kNotFound.
  Result<CK_SLOT_ID> FindTokenSlot(std::string_view label);
  // OpenSession: a R/W session; with a non-empty `pin`, logged in as CKU_USER
  // (CKR_USER_ALREADY_LOGGED_IN counts as success: login state is per token).
  // Thread-safe (the module is initialized with CKF_OS_LOCKING_OK).
  Result<CK_SESSION_HANDLE> OpenSession(CK_SLOT_ID slot, std::string_view pin);
  // GenerateKeyPair: `token` selects CKA_TOKEN; private key sensitive, sign only.
  Result<KeyPair> GenerateKeyPair(CK_SESSION_HANDLE session, KeyKind kind, bool token);
  // CreateDataObject: a CKO_DATA object with `label` and a 32-byte value.
  Result<CK_OBJECT_HANDLE> CreateDataObject(CK_SESSION_HANDLE session, std::string_view label,
                                            bool token);
  // FindByLabel: C_FindObjectsInit/C_FindObjects/C_FindObjectsFinal for
  // CKA_LABEL == label; returns how many objects matched (at most 16).
  Result<size_t> FindByLabel(CK_SESSION_HANDLE session, std::string_view label);
  // Sign: one C_SignInit + C_Sign of `msg` with `mech` into `out` (resized).
  Status Sign(CK_SESSION_HANDLE session, CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE key,
              std::span<const uint8_t> msg, std::vector<uint8_t>& out);
  // HasMechanism: whether `slot` lists `mech`.
  bool HasMechanism(CK_SLOT_ID slot, CK_MECHANISM_TYPE mech);

 private:
  explicit P11Module(std::unique_ptr<ca::Pkcs11Library> lib) : lib_(std::move(lib)), fn_(lib_->fn()) {}
  Result<CK_SLOT_ID> FirstUninitializedSlot();

  std::unique_ptr<ca::Pkcs11Library> lib_;
  CK_FUNCTION_LIST* fn_;
};

// SignMechanism: the mechanism giving the same work as raw OpenSSL for a
// 32-byte message: CKM_ECDSA (the message is the digest), CKM_EDDSA, and
// CKM_SHA256_RSA_PKCS.
CK_MECHANISM_TYPE SignMechanism(KeyKind kind);

}  // namespace certvault::bench

#endif  // CERTVAULT_BENCH_P11_LOADER_H_
