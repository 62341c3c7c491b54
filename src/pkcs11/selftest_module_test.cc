// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The self-test error state of the PKCS#11 module, shown on a test-only build
// of the module with fault injection compiled in (libcertvault-pkcs11-faults,
// never installed). Each case runs in a forked child, because the error state
// lasts for the life of the process, as it must.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "src/pkcs11/pkcs11_v3.h"

namespace {

const CK_BYTE kP256[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
CK_BBOOL kTrue = CK_TRUE;
CK_UTF8CHAR kSoPin[] = "so-secret-1";
CK_UTF8CHAR kUserPin[] = "user-secret-1";

CK_FUNCTION_LIST_3_0* Load() {
  void* handle = dlopen(CV_PKCS11_FAULT_MODULE_PATH, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return nullptr;
  auto get_interface = reinterpret_cast<CK_C_GetInterface>(dlsym(handle, "C_GetInterface"));
  CK_INTERFACE_PTR iface = nullptr;
  if (get_interface == nullptr || get_interface(nullptr, nullptr, &iface, 0) != CKR_OK) return nullptr;
  return static_cast<CK_FUNCTION_LIST_3_0*>(iface->pFunctionList);
}

// InChild: runs `body` in a forked child with a fresh CERTVAULT_HOME and
// returns its exit code (0: every expectation held; else the failed step).
int InChild(const std::function<int(CK_FUNCTION_LIST_3_0*)>& body) {
  char tmpl[] = "/tmp/cv-selftest-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 200;
  pid_t pid = fork();
  if (pid == 0) {
    setenv("CERTVAULT_HOME", tmpl, 1);
    CK_FUNCTION_LIST_3_0* f = Load();
    _exit(f == nullptr ? 201 : body(f));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 202;
}

// UserSession: token, PINs and a R/W session logged in as the user.
int UserSession(CK_FUNCTION_LIST_3_0* f, CK_SESSION_HANDLE* session) {
  CK_SLOT_ID slots[4];
  CK_ULONG count = 4;
  CK_UTF8CHAR label[32];
  std::memset(label, ' ', sizeof(label));
  if (f->C_GetSlotList(CK_FALSE, slots, &count) != CKR_OK || count == 0) return 10;
  if (f->C_InitToken(slots[0], kSoPin, sizeof(kSoPin) - 1, label) != CKR_OK) return 11;
  if (f->C_OpenSession(slots[0], CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, session) != CKR_OK) return 12;
  if (f->C_Login(*session, CKU_SO, kSoPin, sizeof(kSoPin) - 1) != CKR_OK) return 13;
  if (f->C_InitPIN(*session, kUserPin, sizeof(kUserPin) - 1) != CKR_OK) return 14;
  if (f->C_Logout(*session) != CKR_OK) return 15;
  if (f->C_Login(*session, CKU_USER, kUserPin, sizeof(kUserPin) - 1) != CKR_OK) return 16;
  return 0;
}

CK_RV GenerateEc(CK_FUNCTION_LIST_3_0* f, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE* priv) {
  CK_MECHANISM mech{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  CK_ATTRIBUTE pub_t[] = {{CKA_EC_PARAMS, const_cast<CK_BYTE*>(kP256), sizeof(kP256)}, {CKA_VERIFY, &kTrue, 1}};
  CK_ATTRIBUTE priv_t[] = {{CKA_SIGN, &kTrue, 1}, {CKA_SENSITIVE, &kTrue, 1}};
  CK_OBJECT_HANDLE pub = 0;
  return f->C_GenerateKeyPair(session, &mech, pub_t, 2, priv_t, 2, &pub, priv);
}

TEST(ModuleSelfTest, EachFailedPowerOnTestIsTheErrorState) {
  for (const char* name : {"integrity", "drbg", "sha256", "sha384", "hmac-sha256", "aes-gcm", "ecdsa-p256",
                           "ecdsa-p384", "ed25519", "rsa-pss", "argon2id"}) {
    int code = InChild([name](CK_FUNCTION_LIST_3_0* f) {
      setenv("CERTVAULT_SELFTEST_FAULT", name, 1);
      // C_Initialize still succeeds, and the token can still be inspected ...
      if (f->C_Initialize(nullptr) != CKR_OK) return 1;
      CK_SLOT_ID slot = 0;
      CK_ULONG count = 1;
      CK_TOKEN_INFO info;
      if (f->C_GetSlotList(CK_FALSE, &slot, &count) != CKR_OK || count != 1) return 2;
      if (f->C_GetTokenInfo(slot, &info) != CKR_OK) return 3;
      // ... but nothing else works, and a rerun (C_Finalize + C_Initialize) does not leave the state.
      CK_UTF8CHAR label[32];
      std::memset(label, ' ', sizeof(label));
      CK_SESSION_HANDLE session = 0;
      if (f->C_InitToken(slot, kSoPin, sizeof(kSoPin) - 1, label) != CKR_DEVICE_ERROR) return 4;
      if (f->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &session) != CKR_DEVICE_ERROR) return 5;
      unsetenv("CERTVAULT_SELFTEST_FAULT");
      if (f->C_Finalize(nullptr) != CKR_OK || f->C_Initialize(nullptr) != CKR_OK) return 6;
      if (f->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &session) != CKR_DEVICE_ERROR) return 7;
      return 0;
    });
    EXPECT_EQ(code, 0) << name;
  }
}

TEST(ModuleSelfTest, NoFaultNoErrorState) {
  EXPECT_EQ(InChild([](CK_FUNCTION_LIST_3_0* f) {
              unsetenv("CERTVAULT_SELFTEST_FAULT");
              if (f->C_Initialize(nullptr) != CKR_OK) return 1;
              CK_SESSION_HANDLE session = 0;
              CK_OBJECT_HANDLE priv = 0;
              if (int rc = UserSession(f, &session); rc != 0) return rc;
              return GenerateEc(f, session, &priv) == CKR_OK ? 0 : 2;
            }),
            0);
}

// A failed pairwise-consistency test fails the generation with
// CKR_DEVICE_ERROR and puts the module into the error state: an operation
// already started and keys made before both fail from then on.
TEST(ModuleSelfTest, FailedPairwiseTestIsTheErrorState) {
  int code = InChild([](CK_FUNCTION_LIST_3_0* f) {
    unsetenv("CERTVAULT_SELFTEST_FAULT");
    if (f->C_Initialize(nullptr) != CKR_OK) return 1;
    CK_SESSION_HANDLE session = 0;
    if (int rc = UserSession(f, &session); rc != 0) return rc;
    CK_OBJECT_HANDLE good = 0, bad = 0;
    if (GenerateEc(f, session, &good) != CKR_OK) return 2;
    CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
    if (f->C_SignInit(session, &ecdsa, good) != CKR_OK) return 3;
    setenv("CERTVAULT_SELFTEST_FAULT", "pct", 1);
    if (GenerateEc(f, session, &bad) != CKR_DEVICE_ERROR) return 4;
    unsetenv("CERTVAULT_SELFTEST_FAULT");
    std::vector<CK_BYTE> data(32, 0x11), sig(128);
    CK_ULONG len = sig.size();
    if (f->C_Sign(session, data.data(), data.size(), sig.data(), &len) != CKR_DEVICE_ERROR) return 5;
    if (f->C_SignInit(session, &ecdsa, good) != CKR_DEVICE_ERROR) return 6;
    if (GenerateEc(f, session, &bad) != CKR_DEVICE_ERROR) return 7;
    CK_SESSION_INFO info;
    if (f->C_GetSessionInfo(session, &info) != CKR_OK) return 8;
    return f->C_CloseSession(session) == CKR_OK ? 0 : 9;
  });
  EXPECT_EQ(code, 0);
}

}  // namespace
