// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The signed install manifest (docs/design/selftest.md): signatures by
// throwaway keys made here, verified the way the integrity self-test does.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "src/crypto/libctx.h"
#include "src/crypto/ossl_ptr.h"
#include "src/selftest/internal.h"

namespace certvault::selftest::internal {
namespace {

namespace fs = std::filesystem;

ossl::UniquePtr<EVP_PKEY> NewKey(const std::string& alg) {
  if (alg == "EC") return ossl::UniquePtr<EVP_PKEY>(EVP_PKEY_Q_keygen(crypto::LibCtx(), nullptr, "EC", "P-256"));
  if (alg == "RSA") return ossl::UniquePtr<EVP_PKEY>(EVP_PKEY_Q_keygen(crypto::LibCtx(), nullptr, "RSA", size_t{2048}));
  return ossl::UniquePtr<EVP_PKEY>(EVP_PKEY_Q_keygen(crypto::LibCtx(), nullptr, alg.c_str()));
}

std::string PublicPem(EVP_PKEY* key) {
  ossl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_PUBKEY(bio.get(), key), 1);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

// Sign: what write_manifest.cmake's openssl command produces.
std::vector<uint8_t> Sign(EVP_PKEY* key, std::span<const uint8_t> msg) {
  const char* md = EVP_PKEY_is_a(key, "ED25519") ? nullptr : "SHA2-256";
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EXPECT_EQ(EVP_DigestSignInit_ex(ctx.get(), nullptr, md, crypto::LibCtx(), nullptr, key, nullptr), 1);
  size_t len = 0;
  EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len, msg.data(), msg.size()), 1);
  std::vector<uint8_t> sig(len);
  EXPECT_EQ(EVP_DigestSign(ctx.get(), sig.data(), &len, msg.data(), msg.size()), 1);
  sig.resize(len);
  return sig;
}

std::vector<uint8_t> Bytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

class ManifestSignature : public ::testing::TestWithParam<std::string> {};

TEST_P(ManifestSignature, VerifiesAndRejectsEveryChange) {
  ossl::UniquePtr<EVP_PKEY> key = NewKey(GetParam()), other = NewKey(GetParam());
  ASSERT_NE(key, nullptr);
  std::string pem = PublicPem(key.get());
  std::vector<uint8_t> manifest = Bytes("0123abcd  bin/certvault\n"), sig = Sign(key.get(), manifest);
  EXPECT_TRUE(VerifyManifestSignature(manifest, sig, pem).ok());

  std::vector<uint8_t> flipped = sig;
  flipped[flipped.size() / 2] ^= 0x01;
  EXPECT_EQ(VerifyManifestSignature(manifest, flipped, pem).reason(), Reason::kDeviceError);
  EXPECT_FALSE(VerifyManifestSignature(manifest, {sig.data(), sig.size() - 1}, pem).ok());
  EXPECT_FALSE(VerifyManifestSignature(manifest, {}, pem).ok());
  std::vector<uint8_t> changed = manifest;
  changed[0] ^= 0x01;
  EXPECT_FALSE(VerifyManifestSignature(changed, sig, pem).ok());
  EXPECT_FALSE(VerifyManifestSignature(manifest, sig, PublicPem(other.get())).ok());
  EXPECT_FALSE(VerifyManifestSignature(manifest, sig, "not a key").ok());
}

INSTANTIATE_TEST_SUITE_P(Keys, ManifestSignature, ::testing::Values("ED25519", "EC", "RSA"));

// An installation prefix with one "binary" and its manifest.
class InstalledTree : public ::testing::Test {
 protected:
  void SetUp() override {
    prefix_ = fs::temp_directory_path() / ("cv-manifest-" + std::to_string(getpid()));
    fs::create_directories(prefix_ / "bin");
    fs::create_directories(prefix_ / "share" / "certvault");
    Write(prefix_ / "bin" / "prog", "abc");
    // SHA-256("abc"), FIPS 180-4.
    manifest_ = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  bin/prog\n";
    Write(prefix_ / "share" / "certvault" / "SHA256SUMS", manifest_);
  }
  void TearDown() override { fs::remove_all(prefix_); }
  static void Write(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }
  void WriteSig(const std::vector<uint8_t>& sig) {
    Write(prefix_ / "share" / "certvault" / "SHA256SUMS.sig", std::string(sig.begin(), sig.end()));
  }
  Status Check(std::string_view pem) { return CheckInstalledBinary(prefix_, prefix_ / "bin" / "prog", pem); }

  fs::path prefix_;
  std::string manifest_;
};

TEST_F(InstalledTree, UnsignedBuildChecksDigestsOnly) {
  EXPECT_TRUE(Check("").ok());
  Write(prefix_ / "bin" / "prog", "abd");
  EXPECT_EQ(Check("").reason(), Reason::kDeviceError);
}

TEST_F(InstalledTree, SignedBuildRequiresAValidSignature) {
  ossl::UniquePtr<EVP_PKEY> key = NewKey("ED25519");
  std::string pem = PublicPem(key.get());
  Status missing = Check(pem);
  EXPECT_EQ(missing.reason(), Reason::kDeviceError);
  EXPECT_NE(missing.message().find("not signed"), std::string::npos) << missing.ToString();

  WriteSig(Sign(key.get(), Bytes(manifest_)));
  EXPECT_TRUE(Check(pem).ok());

  // A manifest rewritten to match an altered binary, without the key.
  Write(prefix_ / "bin" / "prog", "abd");
  Write(prefix_ / "share" / "certvault" / "SHA256SUMS",
        "a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9  bin/prog\n");
  EXPECT_NE(Check(pem).message().find("does not verify"), std::string::npos);
}

}  // namespace
}  // namespace certvault::selftest::internal
