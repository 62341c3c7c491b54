// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// LibCtx is certvault's own context: one per process, not the default one,
// unaffected by the default context's properties, with the default and base
// providers only.
#include "src/crypto/libctx.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include <cstring>
#include <thread>
#include <vector>

namespace certvault::crypto {
namespace {

TEST(LibCtxTest, OneOwnContextForAllThreads) {
  OSSL_LIB_CTX* ctx = LibCtx();
  ASSERT_NE(ctx, nullptr);
  EXPECT_NE(ctx, OSSL_LIB_CTX_get0_global_default());
  std::vector<OSSL_LIB_CTX*> seen(8);
  std::vector<std::thread> threads;
  for (auto& s : seen) threads.emplace_back([&s] { s = LibCtx(); });
  for (auto& t : threads) t.join();
  for (OSSL_LIB_CTX* s : seen) EXPECT_EQ(s, ctx);
  EXPECT_EQ(OSSL_PROVIDER_available(ctx, "default"), 1);
  EXPECT_EQ(OSSL_PROVIDER_available(ctx, "base"), 0);  // its decoders are the default's too
  EXPECT_EQ(OSSL_PROVIDER_available(ctx, "legacy"), 0);
}

TEST(LibCtxTest, DefaultContextPropertiesDoNotApply) {
  // What an application's configuration can do to the default context.
  ASSERT_EQ(EVP_set_default_properties(nullptr, "provider=no-such-provider"), 1);
  EVP_KEYMGMT* in_default = EVP_KEYMGMT_fetch(nullptr, "EC", nullptr);
  EVP_KEYMGMT* in_ours = EVP_KEYMGMT_fetch(LibCtx(), "EC", kPropq);
  EXPECT_EQ(in_default, nullptr);
  ASSERT_NE(in_ours, nullptr);
  EXPECT_STREQ(OSSL_PROVIDER_get0_name(EVP_KEYMGMT_get0_provider(in_ours)), "default");
  EVP_KEYMGMT_free(in_default);
  EVP_KEYMGMT_free(in_ours);
  EXPECT_NE(DigestByNid(NID_sha256), nullptr);
  ASSERT_EQ(EVP_set_default_properties(nullptr, ""), 1);
}

TEST(LibCtxTest, Digests) {
  for (int nid : {NID_sha1, NID_sha256, NID_sha384, NID_sha512, NID_sha3_256}) {
    const EVP_MD* md = DigestByNid(nid);
    ASSERT_NE(md, nullptr) << nid;
    EXPECT_EQ(EVP_MD_get_type(md), nid);
    EXPECT_EQ(md, DigestByNid(nid));  // fetched once
  }
  EXPECT_EQ(DigestByName("SHA256"), DigestByNid(NID_sha256));
  EXPECT_EQ(DigestByName("sha384"), DigestByNid(NID_sha384));
  EXPECT_EQ(DigestByNid(NID_md5), nullptr);
  EXPECT_EQ(DigestByName("no-such-digest"), nullptr);
  EXPECT_EQ(DigestByName(nullptr), nullptr);
}

}  // namespace
}  // namespace certvault::crypto
