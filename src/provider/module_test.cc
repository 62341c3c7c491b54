// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The built certvault.so loaded into an OpenSSL library context, over a vault
// in a temp dir: signing through EVP with a vault key, concurrency, fork(),
// errors on the application's queue, and that ordinary software keys stay
// with the default provider.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "src/core/backend.h"

namespace certvault {
namespace {

constexpr char kUserPin[] = "module-test-pin";
const uint8_t kP256Oid[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

SecretBytes Pin(const char* p) { return SecretBytes(std::string_view(p), SecretAccess::Get()); }

class ProviderModuleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/cv-provider-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = new std::string(tmpl);
    MakeVault();
    std::ofstream(*dir_ + "/pin") << kUserPin << "\n";
    chmod((*dir_ + "/pin").c_str(), 0600);  // PIN files open to group or others are refused
    std::string cnf = *dir_ + "/openssl.cnf";
    std::ofstream(cnf) << "openssl_conf = init\n[init]\nproviders = prov\n[prov]\ndefault = dflt\ncertvault = cv\n"
                       << "[dflt]\nactivate = 1\n[cv]\nactivate = 1\nmodule = " << CV_PROVIDER_MODULE_PATH
                       << "\nvault = " << *dir_ << "/vault\npin-file = " << *dir_ << "/pin\n";
    ctx_ = OSSL_LIB_CTX_new();
    ASSERT_EQ(OSSL_LIB_CTX_load_config(ctx_, cnf.c_str()), 1);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  static void MakeVault() {
    BackendOptions opts;
    opts.vault_dir = *dir_ + "/vault";
    opts.create_vault = true;
    auto backend = OpenEmbeddedBackend(opts);
    ASSERT_TRUE(backend.ok());
    Backend& b = **backend;
    SlotId slot = b.GetSlotList(false)->front();
    ASSERT_TRUE(b.InitToken(slot, Pin("so-pin-123456"), "unit").ok());
    SessionHandle s = *b.OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    ASSERT_TRUE(b.Login(s, UserType::kSo, Pin("so-pin-123456")).ok());
    ASSERT_TRUE(b.InitPin(s, Pin(kUserPin)).ok());
    ASSERT_TRUE(b.Logout(s).ok());
    ASSERT_TRUE(b.Login(s, UserType::kUser, Pin(kUserPin)).ok());
    AttributeSet pub, priv;
    for (AttributeSet* t : {&pub, &priv}) {
      t->SetBool(CKA_TOKEN, true);
      t->SetString(CKA_LABEL, "ec");
    }
    pub.Set(CKA_EC_PARAMS, kP256Oid);
    pub.SetBool(CKA_VERIFY, true);
    priv.SetBool(CKA_PRIVATE, true);
    priv.SetBool(CKA_SENSITIVE, true);
    priv.SetBool(CKA_SIGN, true);
    ASSERT_TRUE(b.GenerateKeyPair(s, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv).ok());
    // "ec-aa": a key that needs the PIN for each use (CKA_ALWAYS_AUTHENTICATE).
    pub.SetString(CKA_LABEL, "ec-aa");
    priv.SetString(CKA_LABEL, "ec-aa");
    priv.SetBool(CKA_ALWAYS_AUTHENTICATE, true);
    ASSERT_TRUE(b.GenerateKeyPair(s, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv).ok());
  }

  static EVP_PKEY* Load(const std::string& uri, int want) {
    OSSL_STORE_CTX* store = OSSL_STORE_open_ex(uri.c_str(), ctx_, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
    EVP_PKEY* key = nullptr;
    while (store != nullptr && key == nullptr && !OSSL_STORE_eof(store)) {
      OSSL_STORE_INFO* info = OSSL_STORE_load(store);
      if (info != nullptr && OSSL_STORE_INFO_get_type(info) == want) {
        key = want == OSSL_STORE_INFO_PKEY ? OSSL_STORE_INFO_get1_PKEY(info) : OSSL_STORE_INFO_get1_PUBKEY(info);
      }
      OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(store);
    return key;
  }

  // SignVerify: a P-256 signature through the provider, verified by the default provider.
  static bool SignVerify(EVP_PKEY* key, EVP_PKEY* pub) {
    const uint8_t msg[] = "certvault";
    uint8_t sig[128];
    size_t len = sizeof(sig);
    EVP_MD_CTX* m = EVP_MD_CTX_new();
    bool ok = EVP_DigestSignInit_ex(m, nullptr, "SHA256", ctx_, nullptr, key, nullptr) == 1 &&
              EVP_DigestSign(m, sig, &len, msg, sizeof(msg)) == 1;
    EVP_MD_CTX_free(m);
    EVP_MD_CTX* v = EVP_MD_CTX_new();
    ok = ok && EVP_DigestVerifyInit_ex(v, nullptr, "SHA256", nullptr, nullptr, pub, nullptr) == 1 &&
         EVP_DigestVerify(v, sig, len, msg, sizeof(msg)) == 1;
    EVP_MD_CTX_free(v);
    return ok;
  }

  // PlainPublic: the vault key's public half as a default-provider key.
  static EVP_PKEY* PlainPublic(EVP_PKEY* key) {
    uint8_t* der = nullptr;
    int n = i2d_PUBKEY(key, &der);
    const uint8_t* p = der;
    EVP_PKEY* pub = d2i_PUBKEY(nullptr, &p, n);
    OPENSSL_free(der);
    return pub;
  }

  static std::string* dir_;
  static OSSL_LIB_CTX* ctx_;
};
std::string* ProviderModuleTest::dir_ = nullptr;
OSSL_LIB_CTX* ProviderModuleTest::ctx_ = nullptr;

TEST_F(ProviderModuleTest, SignsAndExportsOnlyThePublicHalf) {
  EVP_PKEY* key = Load("certvault:token=unit;object=ec;type=private", OSSL_STORE_INFO_PKEY);
  ASSERT_NE(key, nullptr);
  EXPECT_STREQ(OSSL_PROVIDER_get0_name(EVP_PKEY_get0_provider(key)), "certvault");
  char group[64];
  ASSERT_EQ(EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), nullptr), 1);
  EXPECT_STREQ(group, "prime256v1");  // named curve
  EXPECT_EQ(EVP_PKEY_get_bits(key), 256);
  OSSL_PARAM* params = nullptr;
  EXPECT_NE(EVP_PKEY_todata(key, EVP_PKEY_KEYPAIR, &params), 1);  // the private half never leaves
  OSSL_PARAM_free(params);
  params = nullptr;
  ASSERT_EQ(EVP_PKEY_todata(key, EVP_PKEY_PUBLIC_KEY, &params), 1);
  EXPECT_EQ(OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_PRIV_KEY), nullptr);
  OSSL_PARAM_free(params);
  EVP_PKEY* pub = PlainPublic(key);
  ASSERT_NE(pub, nullptr);
  EXPECT_EQ(EVP_PKEY_eq(key, pub), 1);  // what libssl's key/certificate match does
  EXPECT_TRUE(SignVerify(key, pub));
  EVP_PKEY_free(pub);
  EVP_PKEY_free(key);
}

// The provider logs in with CKU_CONTEXT_SPECIFIC after each SignInit, with
// the PIN its PIN source gave (here the configured pin-file).
TEST_F(ProviderModuleTest, AlwaysAuthenticateKeySignsEveryTime) {
  EVP_PKEY* key = Load("certvault:object=ec-aa;type=private", OSSL_STORE_INFO_PKEY);
  ASSERT_NE(key, nullptr);
  EVP_PKEY* pub = PlainPublic(key);
  ASSERT_NE(pub, nullptr);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(SignVerify(key, pub)) << i;
  EVP_PKEY_free(pub);
  EVP_PKEY_free(key);
}

TEST_F(ProviderModuleTest, PublicKeyNeedsNoPin) {
  EVP_PKEY* pub = Load("certvault:object=ec;type=public", OSSL_STORE_INFO_PUBKEY);
  ASSERT_NE(pub, nullptr);
  EXPECT_EQ(EVP_PKEY_get_bits(pub), 256);
  EVP_PKEY_free(pub);
}

TEST_F(ProviderModuleTest, ConcurrentSigning) {
  EVP_PKEY* key = Load("certvault:object=ec;type=private", OSSL_STORE_INFO_PKEY);
  ASSERT_NE(key, nullptr);
  EVP_PKEY* pub = PlainPublic(key);
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) good += SignVerify(key, pub) ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 200);
  EVP_PKEY_free(pub);
  EVP_PKEY_free(key);
}

TEST_F(ProviderModuleTest, ForkedChildReopensTheVault) {
  EVP_PKEY* key = Load("certvault:object=ec;type=private", OSSL_STORE_INFO_PKEY);
  ASSERT_NE(key, nullptr);
  EVP_PKEY* pub = PlainPublic(key);
  ASSERT_TRUE(SignVerify(key, pub));  // the parent is logged in
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(SignVerify(key, pub) && SignVerify(key, pub) ? 0 : 1);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(SignVerify(key, pub));  // the parent is unaffected
  EVP_PKEY_free(pub);
  EVP_PKEY_free(key);
}

TEST_F(ProviderModuleTest, ErrorsReachTheApplicationQueue) {
  ERR_clear_error();
  EXPECT_EQ(Load("certvault:object=absent;type=private", OSSL_STORE_INFO_PKEY), nullptr);
  bool found = false;
  for (unsigned long e; (e = ERR_get_error()) != 0;) {
    const char* reason = ERR_reason_error_string(e);
    if (reason != nullptr && std::string(reason) == "no such key in the vault") found = true;
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(Load("certvault:object=ec;bad-attr=1", OSSL_STORE_INFO_PKEY), nullptr);
  EXPECT_NE(ERR_get_error(), 0u);
  ERR_clear_error();
}

TEST_F(ProviderModuleTest, SoftwareKeysStayWithTheDefaultProvider) {
  EVP_PKEY* soft = EVP_PKEY_Q_keygen(ctx_, nullptr, "EC", "P-256");
  ASSERT_NE(soft, nullptr);
  EXPECT_STREQ(OSSL_PROVIDER_get0_name(EVP_PKEY_get0_provider(soft)), "default");
  EVP_MD_CTX* m = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestSignInit_ex(m, nullptr, "SHA256", ctx_, nullptr, soft, nullptr), 1);
  EXPECT_STREQ(OSSL_PROVIDER_get0_name(EVP_PKEY_CTX_get0_provider(EVP_MD_CTX_get_pkey_ctx(m))), "default");
  EVP_MD_CTX_free(m);
  EVP_PKEY* x = EVP_PKEY_Q_keygen(ctx_, nullptr, "X25519");
  ASSERT_NE(x, nullptr);
  EXPECT_STREQ(OSSL_PROVIDER_get0_name(EVP_PKEY_get0_provider(x)), "default");
  EVP_PKEY_free(x);
  EVP_PKEY_free(soft);
}

}  // namespace
}  // namespace certvault
