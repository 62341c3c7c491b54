// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// p11_pkey.h against SoftHSM2 (a foreign PKCS#11 module): keys made in a
// fresh SoftHSM2 token sign through the cv-p11 provider (P-256, P-384, RSA
// PKCS#1 v1.5 and PSS), verify with their public half in certvault's
// context, and authenticate a TLS 1.3 client; a wrong PIN, a missing key and
// bad URIs give clear errors.
#include "ca/p11/p11_pkey.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <string>

#include "ca/p11/ca_key.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"

namespace certvault::ca {
namespace {

constexpr char kModule[] = "/usr/lib/softhsm/libsofthsm2.so";
constexpr char kToken[] = "p11pkey";
constexpr char kPin[] = "user-5678";

SecretBytes Pin(const char* pin) { return SecretBytes(std::string_view(pin), SecretAccess::Get()); }

CK_ATTRIBUTE Attr(CK_ATTRIBUTE_TYPE type, const void* value, size_t len) {
  return CK_ATTRIBUTE{type, const_cast<void*>(value), static_cast<CK_ULONG>(len)};
}

// GenerateAlwaysAuthenticateKey: a P-256 pair labelled `label` whose private
// half has CKA_ALWAYS_AUTHENTICATE=TRUE (CaToken makes none). SoftHSM2 then
// refuses C_Sign without C_Login(CKU_CONTEXT_SPECIFIC) after C_SignInit.
Status GenerateAlwaysAuthenticateKey(const std::string& label) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<P11Module> m, P11Module::Load(kModule));
  CV_ASSIGN_OR_RETURN(CK_SLOT_ID slot, m->FindTokenSlot(kToken));
  CV_ASSIGN_OR_RETURN(CK_SESSION_HANDLE s, m->OpenSession(slot));
  Status st = m->Login(s, Pin(kPin));
  static const std::array<uint8_t, 10> kP256 = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
  CK_BBOOL yes = CK_TRUE;
  std::array<CK_ATTRIBUTE, 4> pub = {Attr(CKA_TOKEN, &yes, 1), Attr(CKA_VERIFY, &yes, 1),
                                     Attr(CKA_LABEL, label.data(), label.size()),
                                     Attr(CKA_EC_PARAMS, kP256.data(), kP256.size())};
  std::array<CK_ATTRIBUTE, 6> priv = {Attr(CKA_TOKEN, &yes, 1),
                                      Attr(CKA_SIGN, &yes, 1),
                                      Attr(CKA_PRIVATE, &yes, 1),
                                      Attr(CKA_SENSITIVE, &yes, 1),
                                      Attr(CKA_ALWAYS_AUTHENTICATE, &yes, 1),
                                      Attr(CKA_LABEL, label.data(), label.size())};
  CK_MECHANISM mech{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  CK_OBJECT_HANDLE pub_h = CK_INVALID_HANDLE, priv_h = CK_INVALID_HANDLE;
  if (st.ok()) {
    st =
        CheckRv(m->fn()->C_GenerateKeyPair(s, &mech, pub.data(), pub.size(), priv.data(), priv.size(), &pub_h, &priv_h),
                "C_GenerateKeyPair");
  }
  m->CloseSession(s);
  return st;
}

class P11PkeyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (access(kModule, R_OK) != 0 || std::system("command -v softhsm2-util >/dev/null") != 0) return;
    char tmpl[] = "/tmp/cv-p11pkey-XXXXXX";
    dir_ = mkdtemp(tmpl);
    mkdir((dir_ + "/tokens").c_str(), 0700);
    std::ofstream(dir_ + "/softhsm2.conf")
        << "directories.tokendir = " << dir_ << "/tokens\nobjectstore.backend = file\nlog.level = ERROR\n";
    setenv("SOFTHSM2_CONF", (dir_ + "/softhsm2.conf").c_str(), 1);
    std::string init = std::string("softhsm2-util --init-token --free --label ") + kToken + " --so-pin so-1234 --pin " +
                       kPin + " >/dev/null";
    ASSERT_EQ(std::system(init.c_str()), 0);
    auto token = CaToken::Open(kModule, kToken, Pin(kPin));
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    ASSERT_TRUE((*token)->GenerateKeyPair("ec256", KeyAlgorithm::kEcP256).ok());
    ASSERT_TRUE((*token)->GenerateKeyPair("ec384", KeyAlgorithm::kEcP384).ok());
    ASSERT_TRUE((*token)->GenerateKeyPair("rsa", KeyAlgorithm::kRsa2048).ok());
    Status aa = GenerateAlwaysAuthenticateKey("ec-aa");
    ASSERT_TRUE(aa.ok()) << aa.ToString();
  }  // the token logs out here: each test logs in on its own

  static void TearDownTestSuite() {
    if (!dir_.empty()) std::system(("rm -rf '" + dir_ + "'").c_str());
  }

  void SetUp() override {
    if (dir_.empty()) GTEST_SKIP() << "SoftHSM2 (libsofthsm2, softhsm2-util) is not installed";
    Result<std::unique_ptr<P11Context>> ctx = P11Context::Create();
    ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
    p11_ = std::move(*ctx);
    libctx_ = p11_->get();
  }

  Result<P11Key> Open(const std::string& uri, const char* pin = kPin) {
    Result<P11Uri> u = ParseP11Uri(uri);
    if (!u.ok()) return u.status();
    return OpenP11Key(libctx_, kModule, *u, Pin(pin));
  }

  // PublicCopy: the key's public half through its SubjectPublicKeyInfo, as
  // an ordinary key of certvault's context.
  static ossl::UniquePtr<EVP_PKEY> PublicCopy(EVP_PKEY* key) {
    unsigned char* der = nullptr;
    int len = i2d_PUBKEY(key, &der);
    const unsigned char* p = der;
    ossl::UniquePtr<EVP_PKEY> pub(len > 0 ? d2i_PUBKEY_ex(nullptr, &p, len, crypto::LibCtx(), nullptr) : nullptr);
    OPENSSL_free(der);
    return pub;
  }

  static inline std::string dir_;
  std::unique_ptr<P11Context> p11_;
  OSSL_LIB_CTX* libctx_ = nullptr;  // p11_'s
};

// SignVerify: sign "message" with `key` (digest SHA-256, or `pss`) and
// verify the signature with `pub`.
void SignVerify(OSSL_LIB_CTX* libctx, EVP_PKEY* key, EVP_PKEY* pub, const char* md, bool pss) {
  const std::string msg = "message to sign";
  ossl::UniquePtr<EVP_MD_CTX> sctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  ASSERT_EQ(EVP_DigestSignInit_ex(sctx.get(), &pctx, md, libctx, nullptr, key, nullptr), 1);
  if (pss) {
    ASSERT_EQ(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
    ASSERT_EQ(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST), 1);
  }
  size_t len = 0;
  ASSERT_EQ(EVP_DigestSign(sctx.get(), nullptr, &len, reinterpret_cast<const uint8_t*>(msg.data()), msg.size()), 1);
  Bytes sig(len);
  ASSERT_EQ(EVP_DigestSign(sctx.get(), sig.data(), &len, reinterpret_cast<const uint8_t*>(msg.data()), msg.size()), 1)
      << ERR_error_string(ERR_get_error(), nullptr);
  sig.resize(len);
  // Checked with the public half in certvault's context, and with the token
  // key itself (cv-p11 verifies with its public half); each on a fresh context.
  auto verify = [&](OSSL_LIB_CTX* ctx, EVP_PKEY* verify_key, const Bytes& s) {
    ossl::UniquePtr<EVP_MD_CTX> vctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* vpctx = nullptr;
    if (EVP_DigestVerifyInit_ex(vctx.get(), &vpctx, md, ctx, nullptr, verify_key, nullptr) != 1) return -10;
    if (pss && (EVP_PKEY_CTX_set_rsa_padding(vpctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                EVP_PKEY_CTX_set_rsa_pss_saltlen(vpctx, RSA_PSS_SALTLEN_DIGEST) != 1)) {
      return -11;
    }
    return EVP_DigestVerify(vctx.get(), s.data(), s.size(), reinterpret_cast<const uint8_t*>(msg.data()), msg.size());
  };
  Bytes flipped = sig;
  flipped[flipped.size() / 2] ^= 1;
  for (auto [ctx, verify_key] : {std::pair{crypto::LibCtx(), pub}, std::pair{libctx, key}}) {
    EXPECT_EQ(verify(ctx, verify_key, sig), 1);
    EXPECT_EQ(verify(ctx, verify_key, flipped), 0);  // a flipped bit does not verify
  }
  ERR_clear_error();
}

TEST_F(P11PkeyTest, SignsWithEveryKeyType) {
  struct Case {
    const char* uri;
    const char* md;
    bool pss;
  };
  for (const Case& c : {Case{"pkcs11:token=p11pkey;object=ec256", "SHA256", false},
                        Case{"pkcs11:token=p11pkey;object=ec384;type=private", "SHA384", false},
                        Case{"pkcs11:token=p11pkey;object=rsa", "SHA256", false},
                        Case{"pkcs11:token=p11pkey;id=%72%73%61", "SHA384", true}}) {
    SCOPED_TRACE(c.uri);
    Result<P11Key> key = Open(c.uri);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    ossl::UniquePtr<EVP_PKEY> pub = PublicCopy(key->key.get());
    ASSERT_NE(pub, nullptr);
    EXPECT_EQ(EVP_PKEY_eq(key->key.get(), pub.get()), 1);
    SignVerify(libctx_, key->key.get(), pub.get(), c.md, c.pss);
  }
}

// Certify: a v1 certificate for `subject_key` named `cn`, issued by
// `issuer_key` (self-signed when it is the same key), valid for a day.
ossl::UniquePtr<X509> Certify(OSSL_LIB_CTX* libctx, EVP_PKEY* subject_key, const char* cn, EVP_PKEY* issuer_key,
                              X509* issuer) {
  ossl::UniquePtr<X509> x(X509_new_ex(libctx, nullptr));
  ossl::UniquePtr<X509_NAME> name(X509_NAME_new());
  X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
  X509_set_subject_name(x.get(), name.get());
  X509_set_issuer_name(x.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name.get());
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 86400);
  X509_set_pubkey(x.get(), subject_key);
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", libctx, nullptr, issuer_key, nullptr) != 1 ||
      X509_sign_ctx(x.get(), ctx.get()) <= 0) {
    return nullptr;
  }
  return x;
}

// Handshake: TLS 1.3 over a BIO pair between `client` and `server`.
bool Handshake(SSL* client, SSL* server) {
  BIO *c_bio = nullptr, *s_bio = nullptr;
  if (BIO_new_bio_pair(&c_bio, 0, &s_bio, 0) != 1) return false;
  SSL_set_bio(client, c_bio, c_bio);  // each SSL owns its end of the pair now
  SSL_set_bio(server, s_bio, s_bio);
  bool c_done = false, s_done = false;
  for (int round = 0; round < 20 && !(c_done && s_done); ++round) {
    if (!c_done) {
      int r = SSL_connect(client);
      if (r <= 0 && SSL_get_error(client, r) != SSL_ERROR_WANT_READ) return false;
      c_done = r == 1;
    }
    if (!s_done) {
      int r = SSL_accept(server);
      if (r <= 0 && SSL_get_error(server, r) != SSL_ERROR_WANT_READ) return false;
      s_done = r == 1;
    }
  }
  return c_done && s_done;
}

// A TLS 1.3 client authenticates with the token key (ECDSA, and RSA, which
// TLS 1.3 signs with RSA-PSS): the server sees the client certificate.
TEST_F(P11PkeyTest, AuthenticatesATls13Client) {
  ossl::UniquePtr<EVP_PKEY> ca_key(EVP_PKEY_Q_keygen(libctx_, nullptr, "EC", "P-256"));
  ossl::UniquePtr<X509> ca = Certify(libctx_, ca_key.get(), "server", ca_key.get(), nullptr);
  ASSERT_NE(ca, nullptr);
  for (const char* uri : {"pkcs11:token=p11pkey;object=ec256", "pkcs11:token=p11pkey;object=rsa"}) {
    SCOPED_TRACE(uri);
    Result<P11Key> key = Open(uri);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    ossl::UniquePtr<X509> cert = Certify(libctx_, key->key.get(), "client", ca_key.get(), ca.get());
    ASSERT_NE(cert, nullptr);
    SSL_CTX* cctx = SSL_CTX_new_ex(libctx_, nullptr, TLS_client_method());
    SSL_CTX* sctx = SSL_CTX_new_ex(libctx_, nullptr, TLS_server_method());
    ASSERT_TRUE(cctx != nullptr && sctx != nullptr);
    SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
    EXPECT_EQ(SSL_CTX_use_certificate(cctx, cert.get()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey(cctx, key->key.get()), 1) << ERR_error_string(ERR_get_error(), nullptr);
    EXPECT_EQ(SSL_CTX_check_private_key(cctx), 1);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx), ca.get());
    SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, nullptr);
    EXPECT_EQ(SSL_CTX_use_certificate(sctx, ca.get()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey(sctx, ca_key.get()), 1);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(sctx), ca.get());
    SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    SSL* client = SSL_new(cctx);
    SSL* server = SSL_new(sctx);
    EXPECT_TRUE(Handshake(client, server)) << ERR_error_string(ERR_get_error(), nullptr);
    X509* peer = SSL_get0_peer_certificate(server);
    EXPECT_TRUE(peer != nullptr && X509_cmp(peer, cert.get()) == 0);
    EXPECT_EQ(SSL_version(server), TLS1_3_VERSION);
    SSL_free(client);
    SSL_free(server);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    ERR_clear_error();
  }
}

// A key with CKA_ALWAYS_AUTHENTICATE signs again and again: each C_SignInit
// is followed by a context-specific login with the PIN kept for it.
TEST_F(P11PkeyTest, AlwaysAuthenticateKeySignsEachTime) {
  Result<P11Key> key = Open("pkcs11:token=p11pkey;object=ec-aa");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  ossl::UniquePtr<EVP_PKEY> pub = PublicCopy(key->key.get());
  ASSERT_NE(pub, nullptr);
  for (int i = 0; i < 3; ++i) SignVerify(libctx_, key->key.get(), pub.get(), "SHA256", false);
}

TEST_F(P11PkeyTest, WrongPinMissingKeyAndBadUris) {
  Result<P11Key> key = Open("pkcs11:token=p11pkey;object=ec256", "wrong-pin");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), StatusCode::kPermissionDenied) << key.status().ToString();
  key = Open("pkcs11:token=p11pkey;object=absent");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), StatusCode::kNotFound);
  EXPECT_NE(key.status().message().find("no private key 'absent'"), std::string::npos) << key.status().ToString();
  key = Open("pkcs11:token=other;object=ec256");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), StatusCode::kNotFound);
  for (const char* bad :
       {"pkcs11:object=ec256", "pkcs11:token=p11pkey", "pkcs11:token=p11pkey;object=x?pin-value=1",
        "certvault:token=p11pkey;object=x", "pkcs11:token=p11pkey;object=x;serial=1", "pkcs11:token=p11pkey;id=%7"}) {
    EXPECT_EQ(ParseP11Uri(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(P11PkeyTest, PinFileModeIsChecked) {
  std::string path = dir_ + "/pin";
  std::ofstream(path) << kPin << "\n";
  chmod(path.c_str(), 0644);
  EXPECT_EQ(ReadPinFile(path).status().code(), StatusCode::kFailedPrecondition);
  chmod(path.c_str(), 0600);
  Result<SecretBytes> pin = ReadPinFile(path);
  ASSERT_TRUE(pin.ok()) << pin.status().ToString();
  EXPECT_TRUE(*pin == Pin(kPin));
}

}  // namespace
}  // namespace certvault::ca
