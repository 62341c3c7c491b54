// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/provider/sigalg.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/x509.h>

namespace certvault::provider {
namespace {

struct Md {
  explicit Md(const char* name) : md(EVP_MD_fetch(nullptr, name, nullptr)) {}
  ~Md() { EVP_MD_free(md); }
  EVP_MD* md;
};

TEST(SigAlg, DigestInfoMatchesOpenSsl) {
  for (const char* name : {"SHA1", "SHA224", "SHA256", "SHA384", "SHA512", "SHA3-256"}) {
    Md md(name);
    Bytes digest(static_cast<size_t>(EVP_MD_get_size(md.md)), 0xab);
    auto info = DigestInfo(md.md, digest);
    ASSERT_TRUE(info.ok()) << name;
    // Parse it back with OpenSSL's X509_SIG (DigestInfo) codec.
    const uint8_t* p = info->data();
    X509_SIG* sig = d2i_X509_SIG(nullptr, &p, static_cast<long>(info->size()));
    ASSERT_NE(sig, nullptr) << name;
    const X509_ALGOR* alg = nullptr;
    const ASN1_OCTET_STRING* value = nullptr;
    X509_SIG_get0(sig, &alg, &value);
    EXPECT_EQ(OBJ_obj2nid(alg->algorithm), EVP_MD_get_type(md.md)) << name;
    EXPECT_EQ(ASN1_STRING_length(value), static_cast<int>(digest.size()));
    X509_SIG_free(sig);
  }
}

TEST(SigAlg, DigestInfoChecksLength) {
  Md md("SHA256");
  EXPECT_FALSE(DigestInfo(md.md, Bytes(31)).ok());
  Md md5("MD5");
  EXPECT_FALSE(DigestInfo(md5.md, Bytes(16)).ok());
}

TEST(SigAlg, CodesForDigest) {
  Md md("SHA384");
  auto codes = CodesForDigest(md.md);
  ASSERT_TRUE(codes.ok());
  EXPECT_EQ(codes->hash, CKM_SHA384);
  EXPECT_EQ(codes->mgf, CKG_MGF1_SHA384);
  EXPECT_EQ(codes->size, 48u);
  EXPECT_STREQ(DigestNameBySize(32), "SHA256");
  EXPECT_EQ(DigestNameBySize(33), nullptr);
}

TEST(SigAlg, SaltLengths) {
  // RSA-2048, SHA-256: emLen 256, max salt 256 - 32 - 2 = 222.
  EXPECT_EQ(*EffectiveSaltLen(kSaltDigest, 32, 2048), 32u);
  EXPECT_EQ(*EffectiveSaltLen(kSaltMax, 32, 2048), 222u);
  EXPECT_EQ(*EffectiveSaltLen(kSaltAuto, 32, 2048), 222u);
  EXPECT_EQ(*EffectiveSaltLen(20, 32, 2048), 20u);
  EXPECT_FALSE(EffectiveSaltLen(223, 32, 2048).ok());
  EXPECT_FALSE(EffectiveSaltLen(-4, 32, 2048).ok());
  // 2049 bits: emLen = ceil(2048 / 8) = 256.
  EXPECT_EQ(*EffectiveSaltLen(kSaltMax, 64, 2049), 190u);
  EXPECT_FALSE(EffectiveSaltLen(kSaltMax, 64, 512).ok());
}

TEST(SigAlg, ParamParsing) {
  char pss[] = "pss";
  OSSL_PARAM p = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, pss, 0);
  EXPECT_EQ(*ParsePadMode(p), kPadPss);
  int six = 6;
  p = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PAD_MODE, &six);
  EXPECT_EQ(*ParsePadMode(p), kPadPss);
  char bogus[] = "bogus";
  p = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, bogus, 0);
  EXPECT_FALSE(ParsePadMode(p).ok());
  char digest[] = "digest";
  p = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, digest, 0);
  EXPECT_EQ(*ParseSaltLen(p), kSaltDigest);
  char num[] = "32";
  p = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, num, 0);
  EXPECT_EQ(*ParseSaltLen(p), 32);
  char trailing[] = "32x";
  p = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, trailing, 0);
  EXPECT_FALSE(ParseSaltLen(p).ok());
}

}  // namespace
}  // namespace certvault::provider
