// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// `secure_heap_kib`: the backend sets up OpenSSL's secure heap, and key
// material then lives in it (locked, excluded from core dumps). A binary of
// its own: the secure heap is process-wide.
#include <openssl/crypto.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "src/core/backend.h"
#include "src/crypto/libctx.h"

namespace certvault {
namespace {

SecretBytes Pin(std::string_view p) { return SecretBytes(p, SecretAccess::Get()); }

TEST(SecureHeapTest, KeyMaterialLivesInTheSecureHeap) {
  char tmpl[] = "/tmp/cv-secheap-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::ofstream(dir + "/c.conf") << "[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\nsecure_heap_kib = 1024\n";
  ASSERT_EQ(CRYPTO_secure_malloc_initialized(), 0);
  {
    BackendOptions options{dir + "/vault", dir + "/c.conf", true};
    auto b = OpenEmbeddedBackend(options);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_EQ(CRYPTO_secure_malloc_initialized(), 1);
    Backend& backend = **b;
    SlotId slot = backend.GetSlotList(true)->back();
    ASSERT_TRUE(backend.InitToken(slot, Pin("so-pin-1"), "t").ok());
    SessionHandle s = *backend.OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    ASSERT_TRUE(backend.Login(s, UserType::kSo, Pin("so-pin-1")).ok());
    ASSERT_TRUE(backend.InitPin(s, Pin("user-pin-1")).ok());
    ASSERT_TRUE(backend.Logout(s).ok());
    ASSERT_TRUE(backend.Login(s, UserType::kUser, Pin("user-pin-1")).ok());
    static const uint8_t kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    AttributeSet pub, priv;
    pub.Set(CKA_EC_PARAMS, kP256);
    priv.SetBool(CKA_SIGN, true);
    auto kp = backend.GenerateKeyPair(s, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv);
    ASSERT_TRUE(kp.ok());
    ASSERT_TRUE(backend.SignInit(s, Mechanism{CKM_ECDSA, {}}, kp->private_key).ok());
    // The token key, session secrets and the parsed private scalar are there.
    EXPECT_GT(CRYPTO_secure_used(), 0u);
    ASSERT_TRUE(backend.CloseSession(s).ok());
  }
  std::filesystem::remove_all(dir);
  // The context's primary DRBG is in the secure heap, which LeakSanitizer
  // does not scan: free the context as a program's main() does.
  crypto::ShutdownLibCtx();
}

}  // namespace
}  // namespace certvault
