// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The module inside an application whose OpenSSL configuration prefers
// another provider (issue: "never route its own crypto through the host
// application's OpenSSL configuration"). The test provider cvreentry
// (testing/reentry_provider.cc) claims EC/RSA key management and decoding,
// is made preferred by `default_properties = ?provider=cvreentry`, and calls
// the module (new session, ECDSA signature) whenever OpenSSL hands it a key.
//
// First the application itself builds an EC key in its default context: the
// provider is called and its call into the module succeeds (the set-up
// reproduces the re-entry path). Then the module signs, verifies and derives
// (ECDH): each completes, and the provider is not called from inside any of
// them, because certvault's own crypto runs in its own library context.
// The vault is set up first, in a child without that configuration; the
// application runs in a second child, so a deadlock is reported, not hung on.
#include <dlfcn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/provider.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "src/pkcs11/pkcs11_v3.h"

namespace {

const CK_BYTE kP256[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
CK_BBOOL kTrue = CK_TRUE;
CK_UTF8CHAR kSoPin[] = "so-secret-1";
CK_UTF8CHAR kUserPin[] = "user-secret-1";

// Exit codes of the child: the step that failed.
enum Step : int {
  kOk = 0,
  kConfig = 10,     // the configuration did not make cvreentry preferred
  kLoad = 11,       // the module did not load or initialize
  kToken = 12,      // token, PIN or key set-up failed
  kAppPath = 13,    // the application's own key use did not reach the module through the provider
  kSign = 14,
  kVerify = 15,
  kDerive = 16,
  kReentered = 17,  // the provider was called from inside a module call
};

struct Counters {
  std::atomic<int>* calls = nullptr;
  std::atomic<int>* module_calls = nullptr;
  std::atomic<int>* failures = nullptr;
};

Counters ProviderCounters() {
  Counters c;
  void* h = dlopen(CV_REENTRY_PROVIDER_PATH, RTLD_NOW | RTLD_NOLOAD);
  if (h == nullptr) return c;
  c.calls = static_cast<std::atomic<int>*>(dlsym(h, "cv_reentry_calls"));
  c.module_calls = static_cast<std::atomic<int>*>(dlsym(h, "cv_reentry_module_calls"));
  c.failures = static_cast<std::atomic<int>*>(dlsym(h, "cv_reentry_failures"));
  return c;  // the handle stays open: OpenSSL holds the provider anyway
}

void WriteConfig(const std::string& path) {
  std::ofstream(path) << "openssl_conf = openssl_init\n"
                         "[openssl_init]\nproviders = provider_sect\nalg_section = evp_properties\n"
                         "[provider_sect]\ncvreentry = cvreentry_sect\ndefault = default_sect\n"
                         "[cvreentry_sect]\nmodule = " CV_REENTRY_PROVIDER_PATH "\nactivate = 1\n"
                         "[default_sect]\nactivate = 1\n"
                         "[evp_properties]\ndefault_properties = ?provider=cvreentry\n";
}

bool ProviderPreferred() {
  EVP_KEYMGMT* km = EVP_KEYMGMT_fetch(nullptr, "EC", nullptr);
  bool ours = km != nullptr && std::strcmp(OSSL_PROVIDER_get0_name(EVP_KEYMGMT_get0_provider(km)), "cvreentry") == 0;
  EVP_KEYMGMT_free(km);
  return ours;
}

// AppBuildsKey: the application's own use of OpenSSL: an EC public key from
// its parameters, in the default context (where cvreentry is preferred).
void AppBuildsKey(const std::vector<CK_BYTE>& point) {
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* key = nullptr;
  if (ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1) (void)EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
  EVP_PKEY_free(key);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
}

struct Token {
  CK_FUNCTION_LIST_PTR f = nullptr;
  CK_SLOT_ID slot = 0;
  CK_SESSION_HANDLE s = 0;
  CK_OBJECT_HANDLE pub = 0, priv = 0;
  std::vector<CK_BYTE> point;  // CKA_EC_POINT (DER OCTET STRING)
};

// Open: loads and initializes the module (CERTVAULT_HOME names the vault).
bool Open(Token* t) {
  void* handle = dlopen(CV_PKCS11_MODULE_PATH, RTLD_NOW | RTLD_LOCAL);
  auto get_list = handle != nullptr ? reinterpret_cast<CK_C_GetFunctionList>(dlsym(handle, "C_GetFunctionList")) : nullptr;
  if (get_list == nullptr || get_list(&t->f) != CKR_OK || t->f->C_Initialize(nullptr) != CKR_OK) return false;
  CK_ULONG count = 0;
  if (t->f->C_GetSlotList(CK_FALSE, nullptr, &count) != CKR_OK || count == 0) return false;
  std::vector<CK_SLOT_ID> slots(count);
  if (t->f->C_GetSlotList(CK_FALSE, slots.data(), &count) != CKR_OK) return false;
  t->slot = slots[0];  // the first: the free slot before set-up, the token after
  return true;
}

// SetUpToken: token, PINs and an EC P-256 key pair, made before (and without)
// the application's configuration.
bool SetUpToken(Token* t) {
  CK_FUNCTION_LIST_PTR f = t->f;
  CK_UTF8CHAR label[32];
  std::memset(label, ' ', sizeof(label));
  if (f->C_InitToken(t->slot, kSoPin, sizeof(kSoPin) - 1, label) != CKR_OK ||
      f->C_OpenSession(t->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &t->s) != CKR_OK ||
      f->C_Login(t->s, CKU_SO, kSoPin, sizeof(kSoPin) - 1) != CKR_OK ||
      f->C_InitPIN(t->s, kUserPin, sizeof(kUserPin) - 1) != CKR_OK || f->C_Logout(t->s) != CKR_OK ||
      f->C_Login(t->s, CKU_USER, kUserPin, sizeof(kUserPin) - 1) != CKR_OK) {
    return false;
  }
  CK_MECHANISM gen{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  CK_ATTRIBUTE pub_t[] = {{CKA_EC_PARAMS, const_cast<CK_BYTE*>(kP256), sizeof(kP256)},
                          {CKA_TOKEN, &kTrue, 1}, {CKA_VERIFY, &kTrue, 1}};
  CK_ATTRIBUTE priv_t[] = {{CKA_TOKEN, &kTrue, 1}, {CKA_SIGN, &kTrue, 1}, {CKA_DERIVE, &kTrue, 1}};
  return f->C_GenerateKeyPair(t->s, &gen, pub_t, 3, priv_t, 3, &t->pub, &t->priv) == CKR_OK;
}

CK_OBJECT_HANDLE FindOne(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls) {
  CK_ATTRIBUTE tmpl{CKA_CLASS, &cls, sizeof(cls)};
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  CK_ULONG found = 0;
  if (f->C_FindObjectsInit(s, &tmpl, 1) != CKR_OK) return CK_INVALID_HANDLE;
  if (f->C_FindObjects(s, &h, 1, &found) != CKR_OK || found != 1) h = CK_INVALID_HANDLE;
  return f->C_FindObjectsFinal(s) == CKR_OK ? h : CK_INVALID_HANDLE;
}

// LogIn: a user session on the set-up token, its key pair and public point.
bool LogIn(Token* t) {
  CK_FUNCTION_LIST_PTR f = t->f;
  if (f->C_OpenSession(t->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &t->s) != CKR_OK ||
      f->C_Login(t->s, CKU_USER, kUserPin, sizeof(kUserPin) - 1) != CKR_OK) {
    return false;
  }
  t->pub = FindOne(f, t->s, CKO_PUBLIC_KEY);
  t->priv = FindOne(f, t->s, CKO_PRIVATE_KEY);
  t->point.resize(100);
  CK_ATTRIBUTE get{CKA_EC_POINT, t->point.data(), t->point.size()};
  if (t->pub == CK_INVALID_HANDLE || t->priv == CK_INVALID_HANDLE || f->C_GetAttributeValue(t->s, t->pub, &get, 1) != CKR_OK) {
    return false;
  }
  t->point.resize(get.ulValueLen);
  return true;
}

int SignVerifyDerive(Token& t) {
  CK_FUNCTION_LIST_PTR f = t.f;
  CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
  CK_BYTE digest[32] = {7}, sig[64];
  CK_ULONG len = sizeof(sig);
  if (f->C_SignInit(t.s, &ecdsa, t.priv) != CKR_OK || f->C_Sign(t.s, digest, 32, sig, &len) != CKR_OK) return kSign;
  if (f->C_VerifyInit(t.s, &ecdsa, t.pub) != CKR_OK || f->C_Verify(t.s, digest, 32, sig, len) != CKR_OK) return kVerify;
  CK_ECDH1_DERIVE_PARAMS ecdh{CKD_NULL, 0, nullptr, static_cast<CK_ULONG>(t.point.size()), t.point.data()};
  CK_MECHANISM derive{CKM_ECDH1_DERIVE, &ecdh, sizeof(ecdh)};
  CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
  CK_KEY_TYPE type = CKK_GENERIC_SECRET;
  CK_ULONG value_len = 32;
  CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &type, sizeof(type)},
                         {CKA_VALUE_LEN, &value_len, sizeof(value_len)}};
  CK_OBJECT_HANDLE secret = 0;
  if (f->C_DeriveKey(t.s, &derive, t.priv, tmpl, 3, &secret) != CKR_OK) return kDerive;
  return kOk;
}

// SetUpVault: the first child: the vault, without any OpenSSL configuration.
int SetUpVault(const std::string& dir) {
  setenv("CERTVAULT_HOME", dir.c_str(), 1);
  Token t;
  if (!Open(&t)) return kLoad;
  if (!SetUpToken(&t)) return kToken;
  return t.f->C_Finalize(nullptr) == CKR_OK ? kOk : kLoad;
}

// RunApplication: the second child: the application with its configuration.
int RunApplication(const std::string& dir) {
  const std::string conf = dir + "/openssl.cnf";
  WriteConfig(conf);
  setenv("OPENSSL_CONF", conf.c_str(), 1);
  setenv("CERTVAULT_HOME", dir.c_str(), 1);
  setenv("CV_REENTRY_MODULE", CV_PKCS11_MODULE_PATH, 1);
  // The application's start-up: its configuration loads the providers.
  if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, nullptr) != 1 || !ProviderPreferred()) return kConfig;
  Counters c = ProviderCounters();
  if (c.calls == nullptr || c.module_calls == nullptr || c.failures == nullptr) return kConfig;
  Token t;
  if (!Open(&t)) return kLoad;
  if (!LogIn(&t)) return kToken;
  setenv("CV_REENTRY_SLOT", std::to_string(t.slot).c_str(), 1);
  // The re-entry path: the application's key reaches the provider, and the
  // provider's call into the module works.
  AppBuildsKey(std::vector<CK_BYTE>(t.point.begin() + 2, t.point.end()));  // raw point: skip the DER header
  if (c.calls->load() == 0 || c.module_calls->load() == 0 || c.failures->load() != 0) return kAppPath;
  c.calls->store(0);
  int step = SignVerifyDerive(t);
  if (step != kOk) return step;
  if (c.calls->load() != 0) return kReentered;
  return t.f->C_Finalize(nullptr) == CKR_OK ? kOk : kLoad;
}

// InChild: runs `fn(dir)` in a child process; its Step, or -1 if it hung.
int InChild(int (*fn)(const std::string&), const std::string& dir) {
  pid_t child = fork();
  if (child < 0) return -2;
  if (child == 0) _exit(fn(dir));
  // A run takes about a second; the bound only turns a deadlock into a
  // failure (sanitizer builds included), it is not a speed requirement.
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  pid_t done = 0;
  while ((done = waitpid(child, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (done == 0) {
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -3;
}

TEST(ReentryModuleTest, HostProviderPreferredByConfigIsNeverUsed) {
  char tmpl[] = "/tmp/cv-reentry-module-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  int setup = InChild(SetUpVault, dir);
  int run = setup == kOk ? InChild(RunApplication, dir) : -4;
  std::filesystem::remove_all(dir);
  ASSERT_EQ(setup, kOk) << "set-up failed at step " << setup;
  ASSERT_NE(run, -1) << "a module call deadlocked";
  EXPECT_EQ(run, kOk) << "failed step " << run;
}

}  // namespace
