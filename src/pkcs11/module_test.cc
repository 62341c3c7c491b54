// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The built libcertvault-pkcs11.so, loaded with dlopen() as applications load
// it, against a real vault in a temporary CERTVAULT_HOME: token and PIN
// set-up, key generation (EC P-256, RSA, Ed25519), signatures, the length
// conventions, lockout, handle checks, attribute rules and fork.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "src/pkcs11/pkcs11_v3.h"

namespace {

// DER OIDs for CKA_EC_PARAMS.
const CK_BYTE kP256[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
const CK_BYTE kEd25519[] = {0x06, 0x03, 0x2B, 0x65, 0x70};
CK_BBOOL kTrue = CK_TRUE;
CK_UTF8CHAR kSoPin[] = "so-secret-1";
CK_UTF8CHAR kUserPin[] = "user-secret-1";
constexpr CK_ULONG kSoPinLen = sizeof(kSoPin) - 1;
constexpr CK_ULONG kUserPinLen = sizeof(kUserPin) - 1;

// Module: the dlopen()ed library, opened once for the whole test binary
// (never closed: the module must tolerate that).
struct Module {
  void* handle = nullptr;
  CK_FUNCTION_LIST_3_0* f = nullptr;
};

Module& Loaded() {
  static Module* m = [] {
    auto* out = new Module;
    out->handle = dlopen(CV_PKCS11_MODULE_PATH, RTLD_NOW | RTLD_LOCAL);
    if (out->handle == nullptr) return out;
    auto get_interface = reinterpret_cast<CK_C_GetInterface>(dlsym(out->handle, "C_GetInterface"));
    CK_INTERFACE_PTR iface = nullptr;
    if (get_interface != nullptr && get_interface(nullptr, nullptr, &iface, 0) == CKR_OK) {
      out->f = static_cast<CK_FUNCTION_LIST_3_0*>(iface->pFunctionList);
    }
    return out;
  }();
  return *m;
}

TEST(ModuleExportsTest, OnlyThreeSymbols) {
  Module& m = Loaded();
  ASSERT_NE(m.handle, nullptr) << dlerror();
  ASSERT_NE(m.f, nullptr);
  EXPECT_NE(dlsym(m.handle, "C_GetFunctionList"), nullptr);
  EXPECT_NE(dlsym(m.handle, "C_GetInterfaceList"), nullptr);
  EXPECT_EQ(dlsym(m.handle, "C_Initialize"), nullptr);
  EXPECT_EQ(dlsym(m.handle, "C_Sign"), nullptr);
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(dlsym(m.handle, "C_GetFunctionList"));
  CK_FUNCTION_LIST_PTR list = nullptr;
  ASSERT_EQ(get_list(&list), CKR_OK);
  EXPECT_EQ(list->version.major, 2);
  EXPECT_EQ(list->version.minor, 40);
  EXPECT_EQ(m.f->version.major, 3);
  EXPECT_EQ(list->C_Sign, m.f->C_Sign);
}

class ModuleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(Loaded().f, nullptr) << "module not loadable";
    f_ = Loaded().f;
    char tmpl[] = "/tmp/cv-pkcs11-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    setenv("CERTVAULT_HOME", dir_.c_str(), 1);
    ASSERT_EQ(f_->C_Initialize(nullptr), CKR_OK);
  }
  void TearDown() override {
    EXPECT_EQ(f_->C_Finalize(nullptr), CKR_OK);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // FirstSlot: the first slot (an empty vault offers one free slot).
  CK_SLOT_ID FirstSlot() {
    CK_ULONG count = 0;
    EXPECT_EQ(f_->C_GetSlotList(CK_FALSE, nullptr, &count), CKR_OK);
    std::vector<CK_SLOT_ID> slots(count);
    EXPECT_EQ(f_->C_GetSlotList(CK_FALSE, slots.data(), &count), CKR_OK);
    return slots.empty() ? CK_UNAVAILABLE_INFORMATION : slots[0];
  }

  // SetUpToken: C_InitToken on the free slot, SO login, C_InitPIN, user login.
  // Returns a R/W session logged in as the user.
  void SetUpToken() {
    slot_ = FirstSlot();
    ASSERT_NE(slot_, CK_UNAVAILABLE_INFORMATION);
    CK_TOKEN_INFO info;
    ASSERT_EQ(f_->C_GetTokenInfo(slot_, &info), CKR_OK);
    EXPECT_EQ(info.flags & CKF_TOKEN_INITIALIZED, 0u);
    CK_UTF8CHAR label[32];
    std::memset(label, ' ', sizeof(label));
    std::memcpy(label, "module test", 11);
    ASSERT_EQ(f_->C_InitToken(slot_, kSoPin, kSoPinLen, label), CKR_OK);
    ASSERT_EQ(f_->C_GetTokenInfo(slot_, &info), CKR_OK);
    EXPECT_NE(info.flags & CKF_TOKEN_INITIALIZED, 0u);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(info.label), 11), "module test");
    ASSERT_EQ(f_->C_OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &session_), CKR_OK);
    ASSERT_EQ(f_->C_Login(session_, CKU_SO, kSoPin, kSoPinLen), CKR_OK);
    ASSERT_EQ(f_->C_InitPIN(session_, kUserPin, kUserPinLen), CKR_OK);
    ASSERT_EQ(f_->C_Logout(session_), CKR_OK);
    ASSERT_EQ(f_->C_Login(session_, CKU_USER, kUserPin, kUserPinLen), CKR_OK);
  }

  void GenerateEc(CK_OBJECT_HANDLE* pub, CK_OBJECT_HANDLE* priv) {
    CK_MECHANISM mech{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
    CK_ATTRIBUTE pub_t[] = {{CKA_EC_PARAMS, const_cast<CK_BYTE*>(kP256), sizeof(kP256)},
                            {CKA_TOKEN, &kTrue, 1}, {CKA_VERIFY, &kTrue, 1}};
    CK_ATTRIBUTE priv_t[] = {{CKA_TOKEN, &kTrue, 1}, {CKA_SIGN, &kTrue, 1}, {CKA_SENSITIVE, &kTrue, 1},
                             {CKA_PRIVATE, &kTrue, 1}};
    ASSERT_EQ(f_->C_GenerateKeyPair(session_, &mech, pub_t, 3, priv_t, 4, pub, priv), CKR_OK);
  }

  // SignVerify: a full sign/verify with the length query, and a bit flip.
  void SignVerify(CK_MECHANISM mech, CK_OBJECT_HANDLE pub, CK_OBJECT_HANDLE priv) {
    std::vector<CK_BYTE> data(32, 0x11);
    ASSERT_EQ(f_->C_SignInit(session_, &mech, priv), CKR_OK);
    CK_ULONG len = 0;
    ASSERT_EQ(f_->C_Sign(session_, data.data(), data.size(), nullptr, &len), CKR_OK);
    std::vector<CK_BYTE> sig(len);
    ASSERT_EQ(f_->C_Sign(session_, data.data(), data.size(), sig.data(), &len), CKR_OK);
    sig.resize(len);
    ASSERT_EQ(f_->C_VerifyInit(session_, &mech, pub), CKR_OK);
    EXPECT_EQ(f_->C_Verify(session_, data.data(), data.size(), sig.data(), sig.size()), CKR_OK);
    sig[sig.size() / 2] ^= 0x01;
    ASSERT_EQ(f_->C_VerifyInit(session_, &mech, pub), CKR_OK);
    EXPECT_EQ(f_->C_Verify(session_, data.data(), data.size(), sig.data(), sig.size()), CKR_SIGNATURE_INVALID);
  }

  CK_FUNCTION_LIST_3_0* f_ = nullptr;
  std::string dir_;
  CK_SLOT_ID slot_ = 0;
  CK_SESSION_HANDLE session_ = 0;
};

TEST_F(ModuleTest, EcP256SignVerify) {
  ASSERT_NO_FATAL_FAILURE(SetUpToken());
  CK_OBJECT_HANDLE pub = 0, priv = 0;
  ASSERT_NO_FATAL_FAILURE(GenerateEc(&pub, &priv));
  SignVerify(CK_MECHANISM{CKM_ECDSA, nullptr, 0}, pub, priv);
  SignVerify(CK_MECHANISM{CKM_ECDSA_SHA256, nullptr, 0}, pub, priv);
}

TEST_F(ModuleTest, RsaSignVerify) {
  ASSERT_NO_FATAL_FAILURE(SetUpToken());
  CK_MECHANISM gen{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
  CK_ULONG bits = 2048;
  CK_BYTE exponent[] = {0x01, 0x00, 0x01};
  CK_ATTRIBUTE pub_t[] = {{CKA_MODULUS_BITS, &bits, sizeof(bits)}, {CKA_PUBLIC_EXPONENT, exponent, 3},
                          {CKA_VERIFY, &kTrue, 1}};
  CK_ATTRIBUTE priv_t[] = {{CKA_SIGN, &kTrue, 1}, {CKA_SENSITIVE, &kTrue, 1}};
  CK_OBJECT_HANDLE pub = 0, priv = 0;
  ASSERT_EQ(f_->C_GenerateKeyPair(session_, &gen, pub_t, 3, priv_t, 2, &pub, &priv), CKR_OK);
  SignVerify(CK_MECHANISM{CKM_SHA256_RSA_PKCS, nullptr, 0}, pub, priv);
  CK_RSA_PKCS_PSS_PARAMS pss{CKM_SHA256, CKG_MGF1_SHA256, 32};
  SignVerify(CK_MECHANISM{CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof(pss)}, pub, priv);
}

TEST_F(ModuleTest, Ed25519SignVerify) {
  ASSERT_NO_FATAL_FAILURE(SetUpToken());
  CK_MECHANISM gen{CKM_EC_EDWARDS_KEY_PAIR_GEN, nullptr, 0};
  CK_ATTRIBUTE pub_t[] = {{CKA_EC_PARAMS, const_cast<CK_BYTE*>(kEd25519), sizeof(kEd25519)},
                          {CKA_VERIFY, &kTrue, 1}};
  CK_ATTRIBUTE priv_t[] = {{CKA_SIGN, &kTrue, 1}};
  CK_OBJECT_HANDLE pub = 0, priv = 0;
  ASSERT_EQ(f_->C_GenerateKeyPair(session_, &gen, pub_t, 2, priv_t, 1, &pub, &priv), CKR_OK);
  SignVerify(CK_MECHANISM{CKM_EDDSA, nullptr, 0}, pub, priv);
}

// §5.2: any other error ends the operation, including arguments the module
// rejects itself; v3.0: a NULL mechanism to C_SignInit cancels.
TEST_F(ModuleTest, ArgumentErrorsAndNullMechanismEndTheOperation) {
  ASSERT_NO_FATAL_FAILURE(SetUpToken());
  CK_OBJECT_HANDLE pub = 0, priv = 0;
  ASSERT_NO_FATAL_FAILURE(GenerateEc(&pub, &priv));
  CK_MECHANISM mech{CKM_ECDSA, nullptr, 0};
  CK_BYTE data[32] = {};
  CK_BYTE sig[64];
  CK_ULONG len = sizeof(sig);
  ASSERT_EQ(f_->C_SignInit(session_, &mech, priv), CKR_OK);
  EXPECT_EQ(f_->C_Sign(session_, data, sizeof(data), sig, nullptr), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(f_->C_Sign(session_, data, sizeof(data), sig, &len), CKR_OPERATION_NOT_INITIALIZED);
  ASSERT_EQ(f_->C_SignInit(session_, &mech, priv), CKR_OK);
  EXPECT_EQ(f_->C_SignInit(session_, nullptr, priv), CKR_OK);
  EXPECT_EQ(f_->C_Sign(session_, data, sizeof(data), sig, &len), CKR_OPERATION_NOT_INITIALIZED);
  EXPECT_EQ(f_->C_SignInit(session_, &mech, priv), CKR_OK);  // a new one may start
}

// §5.2: a too-small buffer leaves the operation active; the retry succeeds.
TEST_F(ModuleTest, BufferTooSmallThenSuccess) {
  ASSERT_NO_FATAL_FAILURE(SetUpToken());
  CK_OBJECT_HANDLE pub = 0, priv = 0;
  ASSERT_NO_FATAL_FAILURE(GenerateEc(&pub, &priv));
  CK_MECHANISM mech{CKM_ECDSA, nullptr, 0};
  CK_BYTE data[32] = {};
  ASSERT_EQ(f_->C_SignInit(session_, &mech, priv), CKR_OK);
  CK_BYTE sig[64];
  CK_ULONG len = 10;
  ASSERT_EQ(f_->C_Sign(session_, data, sizeof(data), sig, &len), CKR_BUFFER_TOO_SMALL);
  EXPECT_EQ(len, 64u);
  ASSERT_EQ(f_->C_Sign(session_, data, sizeof(data), sig, &len), CKR_OK);
  EXPECT_EQ(len, 64u);
  EXPECT_EQ(f_->C_Sign(session_, data, sizeof(data), sig, &len), CKR_OPERATION_NOT_INITIALIZED);
  EXPECT_EQ(f_->C_Sign(session_, data, sizeof(data), sig, nullptr), CKR_ARGUMENTS_BAD);
}

TEST_F(ModuleTest, DoubleSignInitIsOperationActive) {
  ASSERT_NO_FATAL_FAILURE(SetUpToken());
  CK_OBJECT_HANDLE pub = 0, priv = 0;
  ASSERT_NO_FATAL_FAILURE(GenerateEc(&pub, &priv));
  CK_MECHANISM mech{CKM_ECDSA, nullptr, 0};
  ASSERT_EQ(f_->C_SignInit(session_, &mech, priv), CKR_OK);
  EXPECT_EQ(f_->C_SignInit(session_, &mech, priv), CKR_OPERATION_ACTIVE);
}

TEST_F(ModuleTest, InvalidHandles) {
  ASSERT_NO_FATAL_FAILURE(SetUpToken());
  CK_SESSION_INFO info;
  EXPECT_EQ(f_->C_GetSessionInfo(session_ + 0x10000, &info), CKR_SESSION_HANDLE_INVALID);
  EXPECT_EQ(f_->C_CloseSession(0), CKR_SESSION_HANDLE_INVALID);
  CK_MECHANISM mech{CKM_ECDSA, nullptr, 0};
  EXPECT_EQ(f_->C_SignInit(session_, &mech, 0xDEAD), CKR_KEY_HANDLE_INVALID);
  CK_ATTRIBUTE t[] = {{CKA_LABEL, nullptr, 0}};
  EXPECT_EQ(f_->C_GetAttributeValue(session_, 0xDEAD, t, 1), CKR_OBJECT_HANDLE_INVALID);
  EXPECT_EQ(f_->C_DestroyObject(session_, 0xDEAD), CKR_OBJECT_HANDLE_INVALID);
  CK_TOKEN_INFO token;
  EXPECT_EQ(f_->C_GetTokenInfo(0xDEAD, &token), CKR_SLOT_ID_INVALID);
}

TEST_F(ModuleTest, SensitiveValueAndReadOnlyAttributes) {
  ASSERT_NO_FATAL_FAILURE(SetUpToken());
  CK_OBJECT_HANDLE pub = 0, priv = 0;
  ASSERT_NO_FATAL_FAILURE(GenerateEc(&pub, &priv));
  CK_BYTE value[128];
  CK_ATTRIBUTE get[] = {{CKA_VALUE, value, sizeof(value)}, {CKA_EC_PARAMS, nullptr, 0}};
  EXPECT_EQ(f_->C_GetAttributeValue(session_, priv, get, 2), CKR_ATTRIBUTE_SENSITIVE);
  EXPECT_EQ(get[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(get[1].ulValueLen, sizeof(kP256)) << "other entries are still processed";
  CK_ULONG rsa = CKK_RSA;
  CK_ATTRIBUTE set_type[] = {{CKA_KEY_TYPE, &rsa, sizeof(rsa)}};
  EXPECT_EQ(f_->C_SetAttributeValue(session_, priv, set_type, 1), CKR_ATTRIBUTE_READ_ONLY);
  CK_BBOOL no = CK_FALSE;
  CK_ATTRIBUTE set_local[] = {{CKA_LOCAL, &no, 1}};
  CK_OBJECT_HANDLE copy = 0;
  EXPECT_EQ(f_->C_CopyObject(session_, pub, set_local, 1, &copy), CKR_ATTRIBUTE_READ_ONLY);
  CK_UTF8CHAR label[] = "renamed";
  CK_ATTRIBUTE set_label[] = {{CKA_LABEL, label, 7}};
  EXPECT_EQ(f_->C_SetAttributeValue(session_, pub, set_label, 1), CKR_OK);
}

TEST_F(ModuleTest, WrongPinCountsDownToLocked) {
  ASSERT_NO_FATAL_FAILURE(SetUpToken());
  ASSERT_EQ(f_->C_Logout(session_), CKR_OK);
  CK_UTF8CHAR wrong[] = "not-the-pin";
  CK_RV rv = CKR_OK;
  int incorrect = 0;
  for (int i = 0; i < 50; ++i) {
    rv = f_->C_Login(session_, CKU_USER, wrong, sizeof(wrong) - 1);
    if (rv != CKR_PIN_INCORRECT) break;
    ++incorrect;
  }
  EXPECT_EQ(rv, CKR_PIN_LOCKED);
  EXPECT_GT(incorrect, 0);
  EXPECT_EQ(f_->C_Login(session_, CKU_USER, kUserPin, kUserPinLen), CKR_PIN_LOCKED);
  CK_TOKEN_INFO info;
  ASSERT_EQ(f_->C_GetTokenInfo(slot_, &info), CKR_OK);
  EXPECT_NE(info.flags & CKF_USER_PIN_LOCKED, 0u);
}

// Fork: the child must initialize again; the parent's sessions are invalid there.
TEST_F(ModuleTest, ForkedChildReinitializes) {
  ASSERT_NO_FATAL_FAILURE(SetUpToken());
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int code = 0;
    CK_SESSION_INFO info;
    if (f_->C_GetSessionInfo(session_, &info) != CKR_CRYPTOKI_NOT_INITIALIZED) code |= 1;
    if (f_->C_Initialize(nullptr) != CKR_OK) code |= 2;
    if (f_->C_GetSessionInfo(session_, &info) != CKR_SESSION_HANDLE_INVALID) code |= 4;
    CK_SESSION_HANDLE child = 0;
    if (f_->C_OpenSession(slot_, CKF_SERIAL_SESSION, nullptr, nullptr, &child) != CKR_OK) code |= 8;
    if (f_->C_Login(child, CKU_USER, kUserPin, kUserPinLen) != CKR_OK) code |= 16;
    if (f_->C_Finalize(nullptr) != CKR_OK) code |= 32;
    _exit(code);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  CK_SESSION_INFO info;
  ASSERT_EQ(f_->C_GetSessionInfo(session_, &info), CKR_OK);
  EXPECT_EQ(info.state, CKS_RW_USER_FUNCTIONS);
}

}  // namespace
