// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/testing/test_ca.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "ca/p11/p11_module.h"
#include "src/base/bytes.h"
#include "src/base/status_macros.h"

namespace certvault::ca::testing {
namespace {

constexpr char kSoPin[] = "test-so-pin-1234";
constexpr char kUserPin[] = "test-user-pin-1234";
constexpr char kTokenLabel[] = "ca-test";

CK_UTF8CHAR_PTR Utf8(const char* s) { return reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(s)); }

// InitToken: C_InitToken on the first slot, then C_InitPIN as the SO.
Status InitToken(const std::string& module_path) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<P11Module> m, P11Module::Load(module_path));
  CK_FUNCTION_LIST* fn = m->fn();
  CK_SLOT_ID slots[8];
  CK_ULONG n = 8;
  CV_RETURN_IF_ERROR(CheckRv(fn->C_GetSlotList(CK_FALSE, slots, &n), "C_GetSlotList"));
  if (n == 0) return NotFoundError("the module has no slot");
  CK_UTF8CHAR label[32];
  std::fill(label, label + 32, ' ');
  std::copy(kTokenLabel, kTokenLabel + sizeof(kTokenLabel) - 1, label);
  CV_RETURN_IF_ERROR(CheckRv(fn->C_InitToken(slots[0], Utf8(kSoPin), sizeof(kSoPin) - 1, label), "C_InitToken"));
  CV_ASSIGN_OR_RETURN(CK_SESSION_HANDLE s, m->OpenSession(slots[0]));
  Status st = CheckRv(fn->C_Login(s, CKU_SO, Utf8(kSoPin), sizeof(kSoPin) - 1), "C_Login(SO)");
  if (st.ok()) st = CheckRv(fn->C_InitPIN(s, Utf8(kUserPin), sizeof(kUserPin) - 1), "C_InitPIN");
  fn->C_Logout(s);
  m->CloseSession(s);
  return st;
}

std::string ConfigText(const TestCaOptions& o) {
  std::string db = o.database.empty() ? "sqlite:ca.db" : o.database;
  std::string text =
      "[ca]\nname = \"test\"\nroot_subject = \"/CN=Test Root CA/O=certvault tests\"\n"
      "issuing_subject = \"/CN=Test Issuing CA/O=certvault tests\"\nkey_algorithm = \"" + o.key_algorithm + "\"\n" +
      (o.signature_algorithm.empty() ? "" : "signature_algorithm = \"" + o.signature_algorithm + "\"\n") +
      "crl_url = \"http://127.0.0.1:1/crl/full.crl\"\nocsp_url = \"http://127.0.0.1:1/\"\n"
      "crl_partitions = " + std::to_string(o.crl_partitions) + "\n"
      "[token]\nmodule = \"" CV_PKCS11_MODULE_PATH "\"\nlabel = \"" + kTokenLabel + "\"\npin_file = \"pin.txt\"\n"
      "[database]\nurl = \"" + db + "\"\n"
      "[profiles.device]\ndays = 365\nextended_key_usage = [\"clientAuth\"]\nsubject_allowed = [\"CN\"]\n"
      "san_types = [\"DNS\"]\nkey_algorithms = [\"ec-p256\"]\n";
  return text;
}

Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) return InternalError("cannot write " + path);
  return OkStatus();
}

}  // namespace

Bytes MakeCsr(const std::string& cn, EVP_PKEY* key) {
  ossl::UniquePtr<X509_REQ> req(X509_REQ_new());
  ossl::UniquePtr<X509_NAME> name(X509_NAME_new());
  if (req == nullptr || name == nullptr) return {};
  X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                             -1, 0);
  if (X509_REQ_set_subject_name(req.get(), name.get()) != 1 || X509_REQ_set_pubkey(req.get(), key) != 1 ||
      X509_REQ_sign(req.get(), key, EVP_sha256()) <= 0) {
    return {};
  }
  int len = i2d_X509_REQ(req.get(), nullptr);
  if (len <= 0) return {};
  Bytes der(static_cast<size_t>(len));
  uint8_t* p = der.data();
  i2d_X509_REQ(req.get(), &p);
  return der;
}

ossl::UniquePtr<X509> ParseCert(const Bytes& der) {
  const uint8_t* p = der.data();
  return ossl::UniquePtr<X509>(d2i_X509(nullptr, &p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
}

Result<std::unique_ptr<TestCa>> TestCa::Create(const TestCaOptions& options) {
  std::unique_ptr<TestCa> t(new TestCa());
  char tmpl[] = "/tmp/cv-ca-test.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return InternalError("mkdtemp failed");
  t->dir_ = tmpl;
  std::string vault = t->dir_ + "/vault";
  if (mkdir(vault.c_str(), 0700) != 0) return InternalError("mkdir failed");
  // Tests need no PIN hardening: the smallest Argon2id cost keeps logins fast.
  CV_RETURN_IF_ERROR(WriteText(t->dir_ + "/vault.conf", "[vault]\nkdf_memory_kib = 8\nkdf_iterations = 1\n"));
  setenv("CERTVAULT_HOME", vault.c_str(), 1);
  setenv("CERTVAULT_CONF", (t->dir_ + "/vault.conf").c_str(), 1);
  unsetenv("CERTVAULT_SOCKET");
  CV_RETURN_IF_ERROR(InitToken(CV_PKCS11_MODULE_PATH));
  CV_RETURN_IF_ERROR(WriteText(t->dir_ + "/pin.txt", std::string(kUserPin) + "\n"));
  chmod((t->dir_ + "/pin.txt").c_str(), 0600);
  CV_RETURN_IF_ERROR(WriteText(t->dir_ + "/ca.toml", ConfigText(options)));
  CV_ASSIGN_OR_RETURN(t->ca_, CaInstance::Open(t->dir_, true, "", /*create_db=*/true));
  CV_RETURN_IF_ERROR(t->ca_->Init(false, "unit-test"));
  CV_RETURN_IF_ERROR(t->ca_->Cert(CaRole::kIssuing).status());
  CV_RETURN_IF_ERROR(t->ca_->Cert(CaRole::kRoot).status());
  CV_RETURN_IF_ERROR(t->ca_->Key(CaRole::kIssuing).status());
  t->device_key_.reset(EVP_EC_gen("P-256"));
  if (t->device_key_ == nullptr) return InternalError("EVP_EC_gen failed");
  return t;
}

TestCa::~TestCa() {
  ca_.reset();  // closes the token before its vault goes
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

Result<std::vector<IssueOutcome>> TestCa::IssueDevices(size_t n, const std::string& prefix, uint32_t threads,
                                                       size_t chunk, CertDb* db) {
  std::vector<IssueItem> items;
  items.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::string cn = prefix + "-" + std::to_string(i);
    items.push_back({cn, MakeCsr(cn, device_key_.get())});
  }
  IssuerOptions opts;
  opts.threads = threads;
  opts.chunk = chunk;
  Issuer issuer(ca_->config(), IssuingName(), IssuingKey(), Issuing(), db != nullptr ? *db : ca_->db(), "unit-test",
                opts);
  CV_ASSIGN_OR_RETURN(std::vector<IssueOutcome> outs, issuer.Issue(items, "device"));
  for (const IssueOutcome& o : outs) {
    if (!o.status.ok()) return Status(o.status.code(), o.source + ": " + std::string(o.status.message()));
  }
  return outs;
}

Result<std::unique_ptr<CertDb>> TestCa::Connect() const { return OpenCertDb(ca_->config().database); }

std::set<std::string> CrlSerials(const Bytes& der, X509* issuer) {
  const uint8_t* p = der.data();
  ossl::UniquePtr<X509_CRL> crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  std::set<std::string> out;
  EXPECT_NE(crl, nullptr);
  if (crl == nullptr) return out;
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(issuer)), 1);
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    const ASN1_INTEGER* serial = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i));
    ossl::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(serial, nullptr));
    Bytes bytes(static_cast<size_t>(BN_num_bytes(bn.get())));
    BN_bn2bin(bn.get(), bytes.data());
    out.insert(HexEncode(bytes));
  }
  return out;
}

}  // namespace certvault::ca::testing
