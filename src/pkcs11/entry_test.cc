// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The C_* entry points over a FakeBackend: argument checks, length
// conventions, library state, interfaces and fork handling. The same flows run
// against the real vault in module_test.cc (through dlopen).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "src/pkcs11/fake_backend.h"
#include "src/pkcs11/pkcs11_v3.h"

namespace certvault::pkcs11 {
namespace {

CK_RV DummyMutex(void**) { return CKR_OK; }
CK_RV DummyMutexOp(void*) { return CKR_OK; }

TEST(EntryLifecycleTest, CallsBeforeInitialize) {
  CK_ULONG count = 0;
  EXPECT_EQ(C_GetSlotList(CK_FALSE, nullptr, &count), CKR_CRYPTOKI_NOT_INITIALIZED);
  CK_INFO info;
  EXPECT_EQ(C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(C_Finalize(nullptr), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(C_SignRecoverInit(1, nullptr, 1), CKR_CRYPTOKI_NOT_INITIALIZED);
}

TEST(EntryLifecycleTest, InitArgsValidation) {
  CK_C_INITIALIZE_ARGS args{};
  args.pReserved = &args;
  EXPECT_EQ(C_Initialize(&args), CKR_ARGUMENTS_BAD);
  args = {};
  args.CreateMutex = DummyMutex;  // some but not all callbacks
  EXPECT_EQ(C_Initialize(&args), CKR_ARGUMENTS_BAD);
  args.DestroyMutex = DummyMutexOp;
  args.LockMutex = DummyMutexOp;
  args.UnlockMutex = DummyMutexOp;
  EXPECT_EQ(C_Initialize(&args), CKR_CANT_LOCK);  // callbacks only, no OS locking
  args.flags = CKF_OS_LOCKING_OK;
  ASSERT_EQ(C_Initialize(&args), CKR_OK);
  EXPECT_EQ(C_Initialize(nullptr), CKR_CRYPTOKI_ALREADY_INITIALIZED);
  EXPECT_EQ(C_Finalize(&args), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(C_Finalize(nullptr), CKR_OK);
  EXPECT_EQ(C_Finalize(nullptr), CKR_CRYPTOKI_NOT_INITIALIZED);
}

TEST(EntryLifecycleTest, BackendOpenFailureLeavesUninitialized) {
  FakeBackendControl::fail_open = true;
  EXPECT_EQ(C_Initialize(nullptr), CKR_DEVICE_ERROR);
  FakeBackendControl::fail_open = false;
  CK_ULONG count = 0;
  EXPECT_EQ(C_GetSlotList(CK_FALSE, nullptr, &count), CKR_CRYPTOKI_NOT_INITIALIZED);
}

TEST(EntryInterfaceTest, FunctionListIs240) {
  CK_FUNCTION_LIST_PTR list = nullptr;
  EXPECT_EQ(C_GetFunctionList(nullptr), CKR_ARGUMENTS_BAD);
  ASSERT_EQ(C_GetFunctionList(&list), CKR_OK);
  EXPECT_EQ(list->version.major, 2);
  EXPECT_EQ(list->version.minor, 40);
  EXPECT_EQ(list->C_Sign, &C_Sign);
  EXPECT_EQ(list->C_WaitForSlotEvent, &C_WaitForSlotEvent);
}

TEST(EntryInterfaceTest, DefaultInterfaceIs30) {
  CK_INTERFACE_PTR iface = nullptr;
  ASSERT_EQ(C_GetInterface(nullptr, nullptr, &iface, 0), CKR_OK);
  EXPECT_STREQ(reinterpret_cast<const char*>(iface->pInterfaceName), "PKCS 11");
  auto* list = static_cast<CK_FUNCTION_LIST_3_0*>(iface->pFunctionList);
  EXPECT_EQ(list->version.major, 3);
  EXPECT_EQ(list->version.minor, 0);
  EXPECT_EQ(list->C_WaitForSlotEvent, &C_WaitForSlotEvent);
  EXPECT_EQ(list->C_GetInterfaceList, &C_GetInterfaceList);
  EXPECT_EQ(list->C_GetInterface, &C_GetInterface);
  EXPECT_EQ(list->C_LoginUser, &C_LoginUser);
  EXPECT_EQ(list->C_SessionCancel, &C_SessionCancel);
  EXPECT_EQ(list->C_MessageEncryptInit, &C_MessageEncryptInit);
  EXPECT_EQ(list->C_MessageVerifyFinal, &C_MessageVerifyFinal);
  EXPECT_EQ(iface->flags & CKF_INTERFACE_FORK_SAFE, 0u);
}

TEST(EntryInterfaceTest, SelectByNameVersionFlags) {
  CK_INTERFACE_PTR iface = nullptr;
  CK_UTF8CHAR name[] = "PKCS 11";
  CK_VERSION v240{2, 40};
  ASSERT_EQ(C_GetInterface(name, &v240, &iface, 0), CKR_OK);
  EXPECT_EQ(static_cast<CK_FUNCTION_LIST_PTR>(iface->pFunctionList)->version.minor, 40);
  CK_UTF8CHAR other[] = "Vendor X";
  EXPECT_EQ(C_GetInterface(other, nullptr, &iface, 0), CKR_ARGUMENTS_BAD);
  CK_VERSION v31{3, 1};
  EXPECT_EQ(C_GetInterface(name, &v31, &iface, 0), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(C_GetInterface(name, nullptr, &iface, CKF_INTERFACE_FORK_SAFE), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(C_GetInterface(name, nullptr, nullptr, 0), CKR_ARGUMENTS_BAD);
}

TEST(EntryInterfaceTest, InterfaceListLengthConvention) {
  CK_ULONG count = 0;
  EXPECT_EQ(C_GetInterfaceList(nullptr, nullptr), CKR_ARGUMENTS_BAD);
  ASSERT_EQ(C_GetInterfaceList(nullptr, &count), CKR_OK);
  ASSERT_EQ(count, 2u);
  CK_INTERFACE ifaces[2];
  count = 1;
  EXPECT_EQ(C_GetInterfaceList(ifaces, &count), CKR_BUFFER_TOO_SMALL);
  EXPECT_EQ(count, 2u);
  ASSERT_EQ(C_GetInterfaceList(ifaces, &count), CKR_OK);
  EXPECT_EQ(static_cast<CK_VERSION*>(ifaces[0].pFunctionList)->major, 3);
  EXPECT_EQ(static_cast<CK_VERSION*>(ifaces[1].pFunctionList)->major, 2);
}

class EntryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(C_Initialize(nullptr), CKR_OK);
    ASSERT_EQ(C_OpenSession(1, CKF_SERIAL_SESSION, nullptr, nullptr, &session_), CKR_OK);
  }
  void TearDown() override { EXPECT_EQ(C_Finalize(nullptr), CKR_OK); }
  CK_SESSION_HANDLE session_ = 0;
};

TEST_F(EntryTest, InfoAndSlots) {
  CK_INFO info;
  EXPECT_EQ(C_GetInfo(nullptr), CKR_ARGUMENTS_BAD);
  ASSERT_EQ(C_GetInfo(&info), CKR_OK);
  EXPECT_EQ(info.cryptokiVersion.major, 3);
  CK_ULONG count = 0;
  ASSERT_EQ(C_GetSlotList(CK_TRUE, nullptr, &count), CKR_OK);
  EXPECT_EQ(count, 1u);
  CK_SLOT_ID slot = 0;
  ASSERT_EQ(C_GetSlotList(CK_TRUE, &slot, &count), CKR_OK);
  EXPECT_EQ(slot, 1u);
  CK_TOKEN_INFO token;
  EXPECT_EQ(C_GetTokenInfo(9, &token), CKR_SLOT_ID_INVALID);
  ASSERT_EQ(C_GetTokenInfo(1, &token), CKR_OK);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(token.label), 32), "fake token" + std::string(22, ' '));
  CK_MECHANISM_TYPE mechs[1];
  count = 1;
  EXPECT_EQ(C_GetMechanismList(1, mechs, &count), CKR_BUFFER_TOO_SMALL);
  EXPECT_EQ(count, 2u);
}

TEST_F(EntryTest, LoginChecks) {
  CK_UTF8CHAR good[] = "1234";
  CK_UTF8CHAR bad[] = "0000";
  EXPECT_EQ(C_Login(session_, CKU_USER, bad, 4), CKR_PIN_INCORRECT);
  EXPECT_EQ(C_Login(session_, 9, good, 4), CKR_USER_TYPE_INVALID);
  EXPECT_EQ(C_Login(session_, CKU_USER, nullptr, 4), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(C_Login(session_ + 100, CKU_USER, good, 4), CKR_SESSION_HANDLE_INVALID);
  CK_UTF8CHAR user[] = "alice";
  EXPECT_EQ(C_LoginUser(session_, CKU_USER, good, 4, user, 5), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(C_LoginUser(session_, CKU_USER, good, 4, nullptr, 0), CKR_OK);
}

TEST_F(EntryTest, SignLengthConventions) {
  CK_MECHANISM mech{CKM_ECDSA, nullptr, 0};
  ASSERT_EQ(C_SignInit(session_, &mech, 5), CKR_OK);
  CK_BYTE data[32] = {};
  EXPECT_EQ(C_Sign(session_, data, sizeof(data), nullptr, nullptr), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(C_Sign(session_, nullptr, 4, nullptr, nullptr), CKR_ARGUMENTS_BAD);
  CK_ULONG len = 0;
  ASSERT_EQ(C_Sign(session_, data, sizeof(data), nullptr, &len), CKR_OK);
  EXPECT_EQ(len, 64u);
  CK_BYTE sig[64];
  len = 10;
  EXPECT_EQ(C_Sign(session_, data, sizeof(data), sig, &len), CKR_BUFFER_TOO_SMALL);
  EXPECT_EQ(len, 64u);
  ASSERT_EQ(C_Sign(session_, data, sizeof(data), sig, &len), CKR_OK);
  EXPECT_EQ(sig[63], 0x5A);
  EXPECT_EQ(C_Verify(session_, data, sizeof(data), sig, len), CKR_OK);
  EXPECT_EQ(C_Verify(session_, data, sizeof(data), sig, len - 1), CKR_SIGNATURE_LEN_RANGE);
}

TEST_F(EntryTest, BadMechanismParameter) {
  CK_RSA_PKCS_PSS_PARAMS pss{CKM_SHA256, CKG_MGF1_SHA256, 32};
  CK_MECHANISM mech{CKM_RSA_PKCS_PSS, &pss, sizeof(pss) - 1};
  EXPECT_EQ(C_SignInit(session_, &mech, 5), CKR_MECHANISM_PARAM_INVALID);
  // PKCS#11 v3.0: a NULL mechanism cancels the active operation (none here).
  EXPECT_EQ(C_SignInit(session_, nullptr, 5), CKR_OK);
  EXPECT_EQ(C_SignInit(CK_SESSION_HANDLE{999}, nullptr, 5), CKR_SESSION_HANDLE_INVALID);
}

TEST_F(EntryTest, GetAttributeValueRules) {
  CK_BYTE label[16];
  CK_BYTE value[16];
  CK_ATTRIBUTE t[] = {{CKA_LABEL, label, sizeof(label)}, {CKA_VALUE, value, sizeof(value)}};
  EXPECT_EQ(C_GetAttributeValue(session_, 7, t, 2), CKR_ATTRIBUTE_SENSITIVE);
  EXPECT_EQ(t[0].ulValueLen, 3u);
  EXPECT_EQ(std::memcmp(label, "key", 3), 0);
  EXPECT_EQ(t[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(C_GetAttributeValue(session_, 8, t, 2), CKR_OBJECT_HANDLE_INVALID);
  EXPECT_EQ(C_GetAttributeValue(session_, 7, nullptr, 2), CKR_ARGUMENTS_BAD);
  CK_ATTRIBUTE small[] = {{CKA_LABEL, label, 2}};
  EXPECT_EQ(C_GetAttributeValue(session_, 7, small, 1), CKR_BUFFER_TOO_SMALL);
  EXPECT_EQ(small[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
}

TEST_F(EntryTest, TemplatesValidatedAtBoundary) {
  CK_OBJECT_HANDLE h = 0;
  CK_BBOOL yes = CK_TRUE;
  CK_ATTRIBUTE dup[] = {{CKA_TOKEN, &yes, 1}, {CKA_TOKEN, &yes, 1}};
  EXPECT_EQ(C_CreateObject(session_, dup, 2, &h), CKR_TEMPLATE_INCONSISTENT);
  CK_ATTRIBUTE null_value[] = {{CKA_LABEL, nullptr, 5}};
  EXPECT_EQ(C_CreateObject(session_, null_value, 1, &h), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(C_CreateObject(session_, dup, 1, nullptr), CKR_ARGUMENTS_BAD);
  CK_ULONG cls = CKO_DATA;
  CK_ATTRIBUTE ok[] = {{CKA_CLASS, &cls, sizeof(cls)}};
  ASSERT_EQ(C_CreateObject(session_, ok, 1, &h), CKR_OK);
  EXPECT_EQ(h, 42u);
  CK_OBJECT_HANDLE pub = 0;
  CK_OBJECT_HANDLE priv = 0;
  CK_MECHANISM gen{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  ASSERT_EQ(C_GenerateKeyPair(session_, &gen, ok, 1, nullptr, 0, &pub, &priv), CKR_OK);
  EXPECT_EQ(pub, 5u);
  EXPECT_EQ(priv, 6u);
}

TEST_F(EntryTest, UnsupportedFunctions) {
  EXPECT_EQ(C_SessionCancel(session_, 0), CKR_FUNCTION_NOT_SUPPORTED);
  EXPECT_EQ(C_MessageSignInit(session_, nullptr, 0), CKR_FUNCTION_NOT_SUPPORTED);
  EXPECT_EQ(C_GetFunctionStatus(session_), CKR_FUNCTION_NOT_PARALLEL);
  EXPECT_EQ(C_WaitForSlotEvent(0, nullptr, nullptr), CKR_FUNCTION_NOT_SUPPORTED);
  CK_BYTE seed[4] = {};
  EXPECT_EQ(C_SeedRandom(session_, seed, sizeof(seed)), CKR_RANDOM_SEED_NOT_SUPPORTED);
}

TEST_F(EntryTest, ExceptionsBecomeReturnCodes) {
  FakeBackendControl::throw_bad_alloc = true;
  CK_ULONG count = 0;
  EXPECT_EQ(C_GetSlotList(CK_FALSE, nullptr, &count), CKR_HOST_MEMORY);
  FakeBackendControl::throw_bad_alloc = false;
}

TEST_F(EntryTest, RandomAndLabel) {
  CK_BYTE buf[8] = {};
  EXPECT_EQ(C_GenerateRandom(session_, nullptr, 8), CKR_ARGUMENTS_BAD);
  ASSERT_EQ(C_GenerateRandom(session_, buf, sizeof(buf)), CKR_OK);
  EXPECT_EQ(buf[7], 0xAB);
  CK_UTF8CHAR pin[] = "so";
  EXPECT_EQ(C_InitToken(1, pin, 2, nullptr), CKR_ARGUMENTS_BAD);
}

// Fork: the child sees the module as not initialized, can initialize it again
// (a fresh backend), and the parent's sessions are not valid there.
TEST_F(EntryTest, ForkedChildReinitializes) {
  int opened_before = FakeBackendControl::opened;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int code = 0;
    CK_SESSION_INFO info;
    if (C_GetSessionInfo(session_, &info) != CKR_CRYPTOKI_NOT_INITIALIZED) code |= 1;
    if (C_Finalize(nullptr) != CKR_CRYPTOKI_NOT_INITIALIZED) code |= 2;
    if (C_Initialize(nullptr) != CKR_OK) code |= 4;
    if (FakeBackendControl::opened != opened_before + 1) code |= 8;
    if (C_GetSessionInfo(session_ + 1000, &info) != CKR_SESSION_HANDLE_INVALID) code |= 16;
    if (C_Finalize(nullptr) != CKR_OK) code |= 32;
    _exit(code);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  CK_SESSION_INFO info;
  EXPECT_EQ(C_GetSessionInfo(session_, &info), CKR_OK) << "the parent is unaffected";
}

}  // namespace
}  // namespace certvault::pkcs11
