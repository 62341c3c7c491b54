// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Unit tests of the CLI's pieces that need no vault: arguments, exit codes,
// JSON, files, PIN files, certificate files and key helpers.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/cert_io.h"
#include "cli/keys.h"
#include "cli/output.h"
#include "cli/pin.h"
#include "cli/vault.h"
#include "src/crypto/x509_build.h"

namespace certvault::cli {
namespace {

const std::vector<OptionSpec> kSpecs = {{"label"}, {"san", true, true}, {"ca", false}};
const std::vector<OptionSpec>* Lookup(std::string_view verb) { return verb == "selfsign" ? &kSpecs : nullptr; }

// Argv: mutable argv storage (TakeSecret overwrites it).
struct Argv {
  explicit Argv(std::vector<std::string> words) : storage(std::move(words)) {
    for (std::string& w : storage) ptrs.push_back(w.data());
  }
  int argc() { return static_cast<int>(ptrs.size()); }
  std::vector<std::string> storage;
  std::vector<char*> ptrs;
};

TEST(Args, ParsesVerbOptionsAndPositional) {
  Argv a({"certvault", "--vault", "/v", "selfsign", "--label=k", "--san", "DNS:a", "--san", "DNS:b", "--ca", "file"});
  auto args = Args::Parse(a.argc(), a.ptrs.data(), Lookup);
  ASSERT_TRUE(args.ok()) << args.status().ToString();
  EXPECT_EQ(args->verb(), "selfsign");
  EXPECT_EQ(args->Get("vault"), "/v");
  EXPECT_EQ(args->Get("label"), "k");
  EXPECT_EQ(args->GetAll("san"), (std::vector<std::string>{"DNS:a", "DNS:b"}));
  EXPECT_TRUE(args->Has("ca"));
  EXPECT_FALSE(args->Has("json"));
  EXPECT_EQ(args->positional(), std::vector<std::string>{"file"});
}

TEST(Args, RejectsBadOptions) {
  for (std::vector<std::string> words : std::vector<std::vector<std::string>>{
           {"cv", "selfsign", "--nope"},
           {"cv", "selfsign", "--label"},
           {"cv", "selfsign", "--label", "a", "--label", "b"},
           {"cv", "selfsign", "--ca=yes"},
       }) {
    Argv a(words);
    auto args = Args::Parse(a.argc(), a.ptrs.data(), Lookup);
    EXPECT_FALSE(args.ok()) << words.back();
    if (!args.ok()) {
      EXPECT_EQ(ExitCodeFor(args.status()), kExitUsage);
    }
  }
}

TEST(Args, TakeSecretWipesArgv) {
  Argv a({"cv", "selfsign", "--pin", "123456"});
  auto args = Args::Parse(a.argc(), a.ptrs.data(), Lookup);
  ASSERT_TRUE(args.ok());
  auto pin = args->TakeSecret("pin");
  ASSERT_TRUE(pin.has_value());
  EXPECT_EQ(pin->AsStringView(SecretAccess::Get()), "123456");
  EXPECT_EQ(std::string(a.ptrs[3]), "xxxxxx");
  EXPECT_FALSE(args->TakeSecret("pin").has_value());
}

TEST(ExitCodes, MapReasonsAndCodes) {
  EXPECT_EQ(ExitCodeFor(OkStatus()), kExitOk);
  EXPECT_EQ(ExitCodeFor(InvalidArgumentError("x")), kExitUsage);
  EXPECT_EQ(ExitCodeFor(NotFoundError("x")), kExitNotFound);
  EXPECT_EQ(ExitCodeFor(Status(Reason::kTokenNotPresent)), kExitNotFound);
  EXPECT_EQ(ExitCodeFor(Status(Reason::kPinIncorrect)), kExitAuth);
  EXPECT_EQ(ExitCodeFor(Status(Reason::kPinLocked)), kExitAuth);
  EXPECT_EQ(ExitCodeFor(Status(Reason::kUserNotLoggedIn)), kExitAuth);
  EXPECT_EQ(ExitCodeFor(Status(Reason::kKeyFunctionNotPermitted)), kExitPolicy);
  EXPECT_EQ(ExitCodeFor(Status(Reason::kCapacityExceeded)), kExitPolicy);
  EXPECT_EQ(ExitCodeFor(InternalError("x")), kExitVault);
  EXPECT_EQ(ExitCodeFor(UnavailableError("x")), kExitVault);
}

TEST(Json, EscapesAndBuilds) {
  EXPECT_EQ(JsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  std::string obj = JsonObject().Add("k", "v").AddInt("n", 3).AddBool("b", true).AddRaw("a", "[]").Build();
  EXPECT_EQ(obj, "{\"k\":\"v\",\"n\":3,\"b\":true,\"a\":[]}");
  EXPECT_EQ(JsonArray({"1", "2"}), "[1,2]");
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cv_cli_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string dir_;
};

TEST_F(TempDir, WriteFileAtomicReplacesWhole) {
  std::string path = dir_ + "/out.pem";
  ASSERT_TRUE(WriteFileAtomic(path, AsSpan("first")).ok());
  ASSERT_TRUE(WriteFileAtomic(path, AsSpan("second")).ok());
  auto data = ReadFile(path);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(AsStringView(*data), "second");
  EXPECT_FALSE(WriteFileAtomic(dir_ + "/missing/dir/x", AsSpan("x")).ok());
  EXPECT_EQ(ReadFile(dir_ + "/nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ReadFile(path, 3).status().code(), StatusCode::kOutOfRange);
}

TEST_F(TempDir, PinFileFirstLineOnly) {
  SecretBytes contents(std::string_view("1234\r\nignored\n"), SecretAccess::Get());
  EXPECT_EQ(PinFromFileContents(contents).AsStringView(SecretAccess::Get()), "1234");
  std::string path = dir_ + "/pin";
  ASSERT_TRUE(WriteFileAtomic(path, AsSpan("987654\n"), 0600).ok());
  Argv a({"cv", "selfsign", "--pin-file", path});
  auto args = Args::Parse(a.argc(), a.ptrs.data(), Lookup);
  ASSERT_TRUE(args.ok());
  EXPECT_TRUE(HasPinSource(*args, PinKind::kUser));
  auto pin = ObtainPin(*args, PinKind::kUser);
  ASSERT_TRUE(pin.ok());
  EXPECT_EQ(pin->AsStringView(SecretAccess::Get()), "987654");
}

TEST(Pin, EmptyPinRejected) {
  Argv a({"cv", "selfsign", "--so-pin="});
  auto args = Args::Parse(a.argc(), a.ptrs.data(), Lookup);
  ASSERT_TRUE(args.ok());
  auto pin = ObtainPin(*args, PinKind::kSo);
  ASSERT_FALSE(pin.ok());
  EXPECT_EQ(pin.status().reason(), Reason::kPinLenRange);
}

// Certificates for the file and key tests, signed with a software key.
struct SoftCert {
  ossl::UniquePtr<EVP_PKEY> key;
  Bytes der;
  Bytes spki;
};

// Ed25519Signer: a software signer for x509::Build*.
x509::Signer Ed25519Signer(EVP_PKEY* key) {
  return [key](std::span<const uint8_t> tbs) -> Result<Bytes> {
    ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    Bytes sig(64);
    size_t n = sig.size();
    EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key);
    EVP_DigestSign(ctx.get(), sig.data(), &n, tbs.data(), tbs.size());
    return sig;
  };
}

SoftCert MakeCert(const char* cn) {
  SoftCert c;
  c.key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  int len = i2d_PUBKEY(c.key.get(), nullptr);
  c.spki.resize(static_cast<size_t>(len));
  uint8_t* p = c.spki.data();
  i2d_PUBKEY(c.key.get(), &p);
  x509::CertSpec spec;
  spec.public_key_info = c.spki;
  spec.subject = std::string("/CN=") + cn;
  spec.algorithm = x509::SignatureAlgorithm::kEd25519;
  auto der = x509::BuildCertificate(spec, Ed25519Signer(c.key.get()));
  EXPECT_TRUE(der.ok());
  if (der.ok()) c.der = *der;
  return c;
}

TEST(CertIo, ParsesDerAndPemChains) {
  SoftCert a = MakeCert("alpha");
  SoftCert b = MakeCert("beta");
  auto one = ParseCertificates(a.der);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
  std::string pem = *x509::PemEncode("CERTIFICATE", a.der) + *x509::PemEncode("PUBLIC KEY", a.spki) +
                    *x509::PemEncode("CERTIFICATE", b.der);
  auto two = ParseCertificates(AsSpan(pem));
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[1], b.der);
  EXPECT_EQ(CommonNameOf((*two)[0]), "alpha");
}

TEST(CertIo, RejectsGarbageAndTruncation) {
  SoftCert a = MakeCert("alpha");
  Bytes truncated(a.der.begin(), a.der.end() - 1);
  EXPECT_FALSE(ParseCertificates(truncated).ok());
  Bytes trailing = a.der;
  trailing.push_back(0);
  EXPECT_FALSE(ParseCertificates(trailing).ok());
  EXPECT_FALSE(ParseCertificates(AsSpan("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")).ok());
  EXPECT_FALSE(ParseCertificates(Bytes()).ok());
  EXPECT_FALSE(ParseCertificates(AsSpan("hello")).ok());
}

TEST(CertIo, CertificateTemplateHasPkcs11Fields) {
  SoftCert a = MakeCert("alpha");
  auto tmpl = CertificateTemplate(a.der, "alpha", Bytes{1, 2});
  ASSERT_TRUE(tmpl.ok());
  EXPECT_EQ(tmpl->GetUlong(CKA_CLASS), CKO_CERTIFICATE);
  EXPECT_EQ(tmpl->GetUlong(CKA_CERTIFICATE_TYPE), CKC_X_509);
  EXPECT_EQ(tmpl->GetBool(CKA_TOKEN), true);
  ASSERT_TRUE(tmpl->GetBytes(CKA_SERIAL_NUMBER).has_value());
  EXPECT_EQ((*tmpl->GetBytes(CKA_SERIAL_NUMBER))[0], 0x02);  // DER INTEGER
  EXPECT_EQ(tmpl->GetBytes(CKA_SUBJECT)->size(), tmpl->GetBytes(CKA_ISSUER)->size());
  auto spki = CertificatePublicKeyInfo(a.der);
  ASSERT_TRUE(spki.ok());
  EXPECT_EQ(*spki, a.spki);
}

// Issued: a self-signed certificate for `key`'s public key.
Bytes Issued(const SoftCert& key, const std::string& subject, std::vector<x509::SanEntry> sans, bool is_ca) {
  x509::CertSpec spec;
  spec.public_key_info = key.spki;
  spec.subject = subject;
  spec.sans = std::move(sans);
  spec.is_ca = is_ca;
  spec.algorithm = x509::SignatureAlgorithm::kEd25519;
  auto der = x509::BuildCertificate(spec, Ed25519Signer(key.key.get()));
  EXPECT_TRUE(der.ok()) << der.status().ToString();
  return der.ok() ? *der : Bytes();
}

// The device refuses a certificate that is not what it asked for.
TEST(CertIo, CheckAsAskedRefusesWhatWasNotAsked) {
  SoftCert k = MakeCert("device-1");
  x509::CsrSpec req;
  req.public_key_info = k.spki;
  req.subject = "/CN=device-1";
  req.sans = {*x509::ParseSan("DNS:device-1.example.com"), *x509::ParseSan("IP:10.0.0.1")};
  req.algorithm = x509::SignatureAlgorithm::kEd25519;
  auto csr = x509::BuildCsr(req, Ed25519Signer(k.key.get()));
  ASSERT_TRUE(csr.ok()) << csr.status().ToString();
  // The CA may add (O=..., more names); it may not drop or change.
  EXPECT_TRUE(CheckAsAsked(Issued(k, "/O=Factory/CN=device-1", req.sans, false), *csr).ok());
  std::vector<x509::SanEntry> more = req.sans;
  more.push_back(*x509::ParseSan("DNS:extra.example.com"));
  EXPECT_TRUE(CheckAsAsked(Issued(k, "/CN=device-1", more, false), *csr).ok());
  EXPECT_EQ(CheckAsAsked(Issued(k, "/CN=device-2", req.sans, false), *csr).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckAsAsked(Issued(k, "/CN=device-1", {req.sans[0]}, false), *csr).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckAsAsked(Issued(k, "/CN=device-1", req.sans, true), *csr).code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(CheckAsAsked(Bytes{0x30, 0x00}, *csr).ok());
}

TEST(Keys, ParseKeyType) {
  for (const char* t : {"rsa:2048", "rsa:3072", "rsa:4096", "ec:p256", "ec:p384", "ec:p521", "ed25519", "ed448"}) {
    EXPECT_TRUE(ParseKeyType(t).ok()) << t;
  }
  for (const char* t : {"rsa:1024", "rsa", "ec:p224", "ec:", "x25519", ""}) EXPECT_FALSE(ParseKeyType(t).ok()) << t;
  auto ec = ParseKeyType("ec:p256");
  EXPECT_EQ(ec->mechanism, CKM_EC_KEY_PAIR_GEN);
  auto tmpl = KeyGenTemplates(*ec, "k", std::nullopt);
  EXPECT_EQ(tmpl.private_tmpl.GetBool(CKA_SENSITIVE), true);
  EXPECT_EQ(tmpl.private_tmpl.GetBool(CKA_EXTRACTABLE), false);
  EXPECT_EQ(tmpl.private_tmpl.GetBool(CKA_PRIVATE), true);
  EXPECT_EQ(tmpl.public_tmpl.GetBool(CKA_TOKEN), true);
  EXPECT_FALSE(tmpl.private_tmpl.Has(CKA_ID));
}

TEST(Keys, KeyIdIsSha1OfPublicValue) {
  ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  int len = i2d_PUBKEY(key.get(), nullptr);
  Bytes spki(static_cast<size_t>(len));
  uint8_t* p = spki.data();
  i2d_PUBKEY(key.get(), &p);
  auto id = KeyIdFromSpki(spki);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->size(), 20u);
  uint8_t point[65];
  size_t plen = 0;
  ASSERT_EQ(EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof(point), &plen), 1);
  Bytes expected(20);
  EVP_Digest(point, plen, expected.data(), nullptr, EVP_sha1(), nullptr);
  EXPECT_EQ(*id, expected);
  spki.pop_back();
  EXPECT_FALSE(KeyIdFromSpki(spki).ok());
}

TEST(Keys, ImportTemplatesCarryComponents) {
  ossl::UniquePtr<EVP_PKEY> rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  auto t = ImportTemplates(rsa.get(), "r", Bytes{9});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  for (AttributeType a : {CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2,
                          CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT}) {
    EXPECT_TRUE(t->private_tmpl.Has(a)) << a;
  }
  EXPECT_FALSE(t->public_tmpl.Has(CKA_PRIVATE_EXPONENT));
  EXPECT_EQ(t->private_tmpl.GetBool(CKA_SENSITIVE), true);
  EXPECT_EQ(t->private_tmpl.GetBool(CKA_EXTRACTABLE), false);
  ossl::UniquePtr<EVP_PKEY> ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  auto e = ImportTemplates(ec.get(), "e", Bytes{9});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->private_tmpl.GetUlong(CKA_KEY_TYPE), CKK_EC);
  EXPECT_TRUE(e->private_tmpl.Has(CKA_VALUE));
  EXPECT_EQ((*e->public_tmpl.GetBytes(CKA_EC_POINT))[0], 0x04);  // DER OCTET STRING
  ossl::UniquePtr<EVP_PKEY> ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  auto d = ImportTemplates(ed.get(), "d", Bytes{9});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->private_tmpl.GetUlong(CKA_KEY_TYPE), CKK_EC_EDWARDS);
  EXPECT_EQ(d->private_tmpl.GetBytes(CKA_VALUE)->size(), 32u);
}

TEST(Selector, FromLabelUriAndId) {
  auto by_label = MakeSelector("web", std::nullopt, std::nullopt);
  ASSERT_TRUE(by_label.ok());
  EXPECT_EQ(by_label->label, "web");
  auto by_uri = MakeSelector("pkcs11:token=t;object=web;type=private;id=%01", std::nullopt, std::nullopt);
  ASSERT_TRUE(by_uri.ok());
  EXPECT_EQ(by_uri->token, "t");
  EXPECT_EQ(by_uri->object_class, CKO_PRIVATE_KEY);
  EXPECT_EQ(by_uri->id, Bytes{1});
  auto by_id = MakeSelector(std::nullopt, "0a0b", std::nullopt);
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(by_id->id, (Bytes{0x0a, 0x0b}));
  EXPECT_FALSE(MakeSelector(std::nullopt, std::nullopt, std::nullopt).ok());
  EXPECT_FALSE(MakeSelector(std::nullopt, "xyz", std::nullopt).ok());
  EXPECT_FALSE(MakeSelector("pkcs11:token=a", std::nullopt, "b").ok());
  EXPECT_FALSE(MakeSelector("pkcs11:bogus=1", std::nullopt, std::nullopt).ok());
}

}  // namespace
}  // namespace certvault::cli
