// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CaKey with keys that have CKA_ALWAYS_AUTHENTICATE=TRUE: the certvault
// module refuses C_Sign without a context-specific login after each
// C_SignInit (PKCS#11 v3.0 §4.9), so CaKey must log in for every signature
// of such a key, from many threads, and leave ordinary keys alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <thread>

#include "ca/p11/ca_key.h"
#include "ca/testing/test_ca.h"
#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

// The token that testing::TestCa initializes (test_ca.cc).
constexpr char kTokenLabel[] = "ca-test";
constexpr char kUserPin[] = "test-user-pin-1234";

CK_ATTRIBUTE Attr(CK_ATTRIBUTE_TYPE type, const void* value, size_t len) {
  return CK_ATTRIBUTE{type, const_cast<void*>(value), static_cast<CK_ULONG>(len)};
}

// GenerateAlwaysAuthenticateKey: a P-256 token key pair labelled `label`
// whose private half has CKA_ALWAYS_AUTHENTICATE=TRUE (CaToken makes none).
Status GenerateAlwaysAuthenticateKey(const std::string& label) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<P11Module> m, P11Module::Load(CV_PKCS11_MODULE_PATH));
  CV_ASSIGN_OR_RETURN(CK_SLOT_ID slot, m->FindTokenSlot(kTokenLabel));
  CV_ASSIGN_OR_RETURN(CK_SESSION_HANDLE s, m->OpenSession(slot));
  static const std::array<uint8_t, 10> kP256 = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
  CK_BBOOL yes = CK_TRUE;
  std::array<CK_ATTRIBUTE, 4> pub = {Attr(CKA_TOKEN, &yes, 1), Attr(CKA_VERIFY, &yes, 1),
                                     Attr(CKA_LABEL, label.data(), label.size()),
                                     Attr(CKA_EC_PARAMS, kP256.data(), kP256.size())};
  std::array<CK_ATTRIBUTE, 5> priv = {Attr(CKA_TOKEN, &yes, 1), Attr(CKA_SIGN, &yes, 1), Attr(CKA_PRIVATE, &yes, 1),
                                      Attr(CKA_ALWAYS_AUTHENTICATE, &yes, 1),
                                      Attr(CKA_LABEL, label.data(), label.size())};
  CK_MECHANISM mech{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  CK_OBJECT_HANDLE pub_h, priv_h;
  Status st = CheckRv(m->fn()->C_GenerateKeyPair(s, &mech, pub.data(), pub.size(), priv.data(), priv.size(), &pub_h,
                                                 &priv_h),
                      "C_GenerateKeyPair");
  m->CloseSession(s);
  return st;
}

std::unique_ptr<CaToken> OpenToken() {
  auto token = CaToken::Open(CV_PKCS11_MODULE_PATH, kTokenLabel, SecretBytes(kUserPin, SecretAccess::Get()));
  EXPECT_TRUE(token.ok()) << token.status().ToString();
  return token.ok() ? std::move(*token) : nullptr;
}

TEST(CaKeyTest, AlwaysAuthenticateKeyLogsInForEverySignature) {
  auto ca = testing::TestCa::Create();
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  std::unique_ptr<CaToken> token = OpenToken();
  ASSERT_NE(token, nullptr);
  ASSERT_TRUE(GenerateAlwaysAuthenticateKey("aa-key").ok());
  auto key = token->OpenKey("aa-key");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  const Bytes tbs = {1, 2, 3, 4};
  for (int i = 0; i < 3; ++i) {  // pooled sessions: the login is per operation
    auto sig = (*key)->SignVerified(tbs);
    ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (!(*key)->SignVerified(tbs).ok()) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(CaKeyTest, OrdinaryKeySignsWithoutContextLogin) {
  auto ca = testing::TestCa::Create();
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  std::unique_ptr<CaToken> token = OpenToken();
  ASSERT_NE(token, nullptr);
  ASSERT_TRUE(token->GenerateKeyPair("plain-key", KeyAlgorithm::kEcP256).ok());
  auto key = token->OpenKey("plain-key");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  auto sig = (*key)->SignVerified(Bytes{5, 6, 7});
  EXPECT_TRUE(sig.ok()) << sig.status().ToString();
}

// Two CA processes sharing one token (two `serve` on one database) read,
// merge and rewrite the CA state object concurrently. A writer must destroy
// only what it read: the other's newer object survives for the next reader
// to merge, and an object the other already destroyed is no error.
TEST(CaTokenDataTest, ConcurrentWritersNeitherFailNorLoseAValue) {
  auto ca = testing::TestCa::Create();
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  std::unique_ptr<CaToken> a = OpenToken();
  std::unique_ptr<CaToken> b = OpenToken();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const std::string label = "shared-state";
  const Bytes first = {1}, from_a = {1, 2}, from_b = {1, 3};
  ASSERT_TRUE(a->WriteData(label, first, {}).ok());
  auto read_a = a->ReadDataObjects(label);
  auto read_b = b->ReadDataObjects(label);
  ASSERT_TRUE(read_a.ok() && read_b.ok());
  ASSERT_EQ(read_a->values, std::vector<Bytes>{first});
  Status wrote_b = b->WriteData(label, from_b, read_b->handles);
  ASSERT_TRUE(wrote_b.ok()) << wrote_b.ToString();
  Status wrote_a = a->WriteData(label, from_a, read_a->handles);  // its old object is gone already
  ASSERT_TRUE(wrote_a.ok()) << wrote_a.ToString();
  auto after = a->ReadData(label);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  std::vector<Bytes> values = *after;
  std::sort(values.begin(), values.end());
  EXPECT_EQ(values, (std::vector<Bytes>{from_a, from_b}));
  auto merged = b->ReadDataObjects(label);  // the next write replaces both
  ASSERT_TRUE(merged.ok());
  ASSERT_TRUE(b->WriteData(label, Bytes{9}, merged->handles).ok());
  EXPECT_EQ(*a->ReadData(label), std::vector<Bytes>{Bytes{9}});
}

}  // namespace
}  // namespace certvault::ca
