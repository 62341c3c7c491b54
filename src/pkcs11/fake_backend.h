// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// FakeBackend: a scripted Backend for the entry-point tests (test only). One
// slot (1), user PIN "1234", sessions counted from 1, one object (handle 7)
// with a CKA_LABEL and a sensitive CKA_VALUE, and a Sign that returns 64 bytes
// with the OutBuf rules. Everything else returns kFunctionNotSupported.
// OpenBackendFromEnvironment() (defined in fake_backend.cc) returns one, or
// fails with kDeviceError when FakeBackendControl::fail_open is set.
#ifndef CERTVAULT_PKCS11_FAKE_BACKEND_H_
#define CERTVAULT_PKCS11_FAKE_BACKEND_H_

#include <atomic>

namespace certvault::pkcs11 {

struct FakeBackendControl {
  static std::atomic<bool> fail_open;
  static std::atomic<int> opened;  // backends created so far
  static std::atomic<bool> throw_bad_alloc;  // GetSlotList throws std::bad_alloc
};

}  // namespace certvault::pkcs11

#endif  // CERTVAULT_PKCS11_FAKE_BACKEND_H_
