// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// End-to-end tests of the verbs over the real embedded backend, in-process,
// on a vault in a temporary directory. OpenSSL checks every CSR/certificate.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_e2e_fixture.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::cli {
namespace {

using CliE2eTest = CliE2eFixture;

ossl::UniquePtr<X509> ReadCert(const std::string& path) {
  ossl::UniquePtr<BIO> bio(BIO_new_file(path.c_str(), "r"));
  if (bio == nullptr) return nullptr;
  return ossl::UniquePtr<X509>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

TEST_F(CliE2eTest, EmptyVaultHasNoTokensAndCreatesNothing) {
  CliRun r = Cli({"tokens", "--json"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "[]\n");
  EXPECT_NE(access((dir_ + "/vault").c_str(), F_OK), 0);
  EXPECT_EQ(Cli({"info"}).code, kExitNotFound);
}

TEST_F(CliE2eTest, InitTwiceWithSameLabelIsUsageError) {
  Init();
  CliRun r = Cli({"init", "--label", "t", "--so-pin", "so-pin-1234", "--pin", "user-pin-1234"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("exists already"), std::string::npos);
}

TEST_F(CliE2eTest, WrongPinIsAuthErrorAndNeverEchoed) {
  Init();
  CliRun r = Cli({"list", "--pin", "not-the-pin-987"});
  EXPECT_EQ(r.code, kExitAuth);
  EXPECT_EQ(r.err.find("not-the-pin-987"), std::string::npos);
  EXPECT_EQ(r.out.find("not-the-pin-987"), std::string::npos);
}

TEST_F(CliE2eTest, KeygenListsUrisAndDefaultIdIsSha1) {
  Init();
  CliRun r = CliPin({"keygen", "--label", "k", "--type", "ec:p256"});
  ASSERT_EQ(r.code, 0) << r.err;
  CliRun list = CliPin({"list", "--json"});
  ASSERT_EQ(list.code, 0);
  EXPECT_NE(list.out.find("\"class\":\"private\""), std::string::npos);
  EXPECT_NE(list.out.find("object=k;type=public;id=%"), std::string::npos);
  // Without a PIN the private key is not listed.
  CliRun pub = Cli({"list", "--json"});
  EXPECT_EQ(pub.out.find("\"class\":\"private\""), std::string::npos);
  CliRun missing = CliPin({"export-pubkey", "--key", "nope"});
  EXPECT_EQ(missing.code, kExitNotFound);
}

TEST_F(CliE2eTest, ImportCertAndExportRoundTrip) {
  Init();
  std::string key = dir_ + "/k.pem", cert = dir_ + "/c.pem";
  ASSERT_EQ(std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + key +
                         " -out " + cert + " -subj /CN=imported -days 2 2>/dev/null").c_str()),
            0);
  CliRun r = CliPin({"import-cert", cert});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string out = dir_ + "/back.der";
  ASSERT_EQ(Cli({"export-cert", "--cert", "imported", "--der", "--out", out}).code, 0);
  auto exported = ReadFile(out);
  ASSERT_TRUE(exported.ok());
  ossl::UniquePtr<X509> original = ReadCert(cert);
  ASSERT_NE(original, nullptr);
  const uint8_t* p = exported->data();
  ossl::UniquePtr<X509> parsed(d2i_X509(nullptr, &p, static_cast<long>(exported->size())));
  ASSERT_NE(parsed, nullptr);
  EXPECT_EQ(X509_cmp(original.get(), parsed.get()), 0);
  EXPECT_EQ(CliPin({"delete", "--object", "imported", "--type", "cert"}).code, 0);
  EXPECT_EQ(Cli({"export-cert", "--cert", "imported"}).code, kExitNotFound);
}

TEST_F(CliE2eTest, ChangePinAndUnlock) {
  Init();
  CliRun c = Cli({"change-pin", "--pin", "user-pin-1234", "--new-pin", "new-pin-5678"});
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(CliPin({"list"}).code, kExitAuth);
  EXPECT_EQ(Cli({"list", "--pin", "new-pin-5678"}).code, 0);
  CliRun u = Cli({"unlock", "--so-pin", "so-pin-1234", "--new-pin", "user-pin-1234"});
  ASSERT_EQ(u.code, 0) << u.err;
  EXPECT_EQ(CliPin({"list"}).code, 0);
}

TEST_F(CliE2eTest, UriPinValueAndPinSourceLogIn) {
  Init();
  ASSERT_EQ(CliPin({"keygen", "--label", "k", "--type", "ed25519"}).code, 0);
  CliRun good = Cli({"export-pubkey", "--key", "pkcs11:object=k;type=private?pin-value=user-pin-1234"});
  EXPECT_EQ(good.code, 0) << good.err;
  EXPECT_NE(good.out.find("BEGIN PUBLIC KEY"), std::string::npos);
  std::string pin_file = dir_ + "/pin";
  ASSERT_TRUE(WriteFileAtomic(pin_file, AsSpan("wrong-pin-000\n"), 0600).ok());
  CliRun bad = Cli({"export-pubkey", "--key", "pkcs11:object=k;type=private?pin-source=file:" + pin_file});
  EXPECT_EQ(bad.code, kExitAuth);
  // A PIN file others can read is refused before it is used.
  ASSERT_TRUE(WriteFileAtomic(pin_file, AsSpan("user-pin-1234\n"), 0644).ok());
  CliRun open_file = Cli({"export-pubkey", "--key", "pkcs11:object=k;type=private?pin-source=file:" + pin_file});
  EXPECT_NE(open_file.code, 0);
  EXPECT_NE(open_file.err.find("chmod 600"), std::string::npos) << open_file.err;
  CliRun flag = Cli({"export-pubkey", "--key", "pkcs11:object=k;type=private", "--pin-file", pin_file});
  EXPECT_NE(flag.err.find("chmod 600"), std::string::npos) << flag.err;
}

TEST_F(CliE2eTest, ImportP12KeyCertAndRejectWrongPassword) {
  Init();
  std::string key = dir_ + "/k.pem", cert = dir_ + "/c.pem", p12 = dir_ + "/b.p12";
  ASSERT_EQ(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key + " -out " + cert +
                         " -subj /CN=p12key -days 2 2>/dev/null && openssl pkcs12 -export -inkey " + key + " -in " +
                         cert + " -out " + p12 + " -passout pass:secret-pw")
                            .c_str()),
            0);
  CliRun wrong = CliPin({"import-p12", p12, "--p12-pass", "nope"});
  EXPECT_EQ(wrong.code, kExitAuth);
  EXPECT_EQ(Cli({"list", "--json"}).out, "[]\n");
  CliRun r = CliPin({"import-p12", p12, "--p12-pass", "secret-pw"});
  ASSERT_EQ(r.code, 0) << r.err;
  CliRun list = CliPin({"list", "--json"});
  EXPECT_NE(list.out.find("object=p12key;type=private"), std::string::npos);
  EXPECT_NE(list.out.find("object=p12key;type=cert"), std::string::npos);
  CliRun pub = Cli({"export-pubkey", "--key", "p12key"});
  ASSERT_EQ(pub.code, 0) << pub.err;
  FILE* f = popen(("openssl x509 -pubkey -noout -in " + cert).c_str(), "r");
  ASSERT_NE(f, nullptr);
  char buf[4096];
  size_t n = fread(buf, 1, sizeof(buf), f);
  pclose(f);
  EXPECT_EQ(pub.out, std::string(buf, n));
}

class CliSignE2eTest : public CliE2eTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(CliSignE2eTest, SelfSignedCertificateAndCsrVerify) {
  Init();
  ASSERT_EQ(CliPin({"keygen", "--label", "k", "--type", GetParam()}).code, 0);
  std::string cert = dir_ + "/cert.pem", csr = dir_ + "/req.pem";
  CliRun s = CliPin({"selfsign", "--key", "k", "--subject", "/CN=e2e", "--san", "DNS:e2e.example", "--days", "5", "--ca",
                  "--out", cert, "--store"});
  ASSERT_EQ(s.code, 0) << s.err;
  ossl::UniquePtr<X509> x = ReadCert(cert);
  ASSERT_NE(x, nullptr);
  ossl::UniquePtr<X509_STORE> store(X509_STORE_new());
  ossl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  X509_STORE_add_cert(store.get(), x.get());
  X509_STORE_CTX_init(ctx.get(), store.get(), x.get(), nullptr);
  EXPECT_EQ(X509_verify_cert(ctx.get()), 1);
  CliRun r = CliPin({"csr", "--key", "k", "--subject", "/CN=e2e", "--out", csr});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::system(("openssl req -verify -noout -in " + csr + " 2>/dev/null").c_str()), 0);
  CliRun list = Cli({"list"});
  EXPECT_NE(list.out.find("object=k;type=cert"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, CliSignE2eTest, ::testing::Values("ec:p256", "ec:p384", "rsa:2048", "ed25519"));

TEST_F(CliE2eTest, KeyStateTransitionsAndListShowsThem) {
  Init();
  ASSERT_EQ(CliPin({"keygen", "--label", "k", "--type", "ec:p256"}).code, 0);
  CliRun r = CliPin({"--json", "list"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"state\":\"active\""), std::string::npos) << r.out;
  r = CliPin({"key", "state", "--key", "k", "--set", "deactivated", "--reason", "rolled over"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("type=private"), std::string::npos) << "both halves of the pair move";
  EXPECT_NE(r.out.find("type=public"), std::string::npos);
  // A deactivated key signs nothing (the CSR needs a signature): refused by policy.
  r = CliPin({"csr", "--key", "k", "--subject", "/CN=x", "--out", dir_ + "/x.csr"});
  EXPECT_EQ(r.code, kExitPolicy) << r.err;
  r = CliPin({"--json", "list"});
  EXPECT_NE(r.out.find("\"state\":\"deactivated\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"state_reason\":\"rolled over\""), std::string::npos) << r.out;
  // No way back; unknown states are usage errors; JSON output of a transition.
  r = CliPin({"key", "state", "--key", "k", "--set", "active"});
  EXPECT_EQ(r.code, kExitPolicy);
  EXPECT_NE(r.err.find("cannot become active"), std::string::npos) << r.err;
  EXPECT_EQ(CliPin({"key", "state", "--key", "k", "--set", "retired"}).code, kExitUsage);
  EXPECT_EQ(CliPin({"key", "stat", "--key", "k", "--set", "destroyed"}).code, kExitUsage);
  r = CliPin({"--json", "key", "state", "--key", "k", "--set", "destroyed"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"from\":\"deactivated\",\"to\":\"destroyed\""), std::string::npos) << r.out;
  r = CliPin({"list"});
  EXPECT_NE(r.out.find("state=destroyed"), std::string::npos) << r.out;
  EXPECT_EQ(CliPin({"key", "state", "--key", "nope", "--set", "destroyed"}).code, kExitNotFound);
}

}  // namespace
}  // namespace certvault::cli
