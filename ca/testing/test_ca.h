// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// TestCa: a real CA instance for the CA's unit tests (test-only code, linked
// into ca_test, not into cv_ca). It makes a temporary directory with a fresh
// certvault vault (CERTVAULT_HOME, cheap Argon2id parameters through
// CERTVAULT_CONF), initializes a token through the built PKCS#11 module
// (C_InitToken, C_InitPIN), writes ca.toml and runs init, so the root,
// issuing and OCSP keys live in the token exactly as with certvault-ca init.
// The destructor closes everything and removes the directory.
//
// The module is named by CV_PKCS11_MODULE_PATH (set by ca/CMakeLists.txt).
// CERTVAULT_HOME is process-wide: one TestCa at a time per process.
#ifndef CERTVAULT_CA_TESTING_TEST_CA_H_
#define CERTVAULT_CA_TESTING_TEST_CA_H_

#include <openssl/evp.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ca/instance/ca_instance.h"
#include "ca/issuance/issuer.h"

namespace certvault::ca::testing {

struct TestCaOptions {
  std::string key_algorithm = "ec-p256";
  std::string signature_algorithm;  // ca.toml [ca] signature_algorithm; empty = the key's default
  uint32_t crl_partitions = 1;
  std::string database;  // empty: sqlite in the instance directory
};

class TestCa {
 public:
  static Result<std::unique_ptr<TestCa>> Create(const TestCaOptions& options = {});
  ~TestCa();

  CaInstance& ca() { return *ca_; }
  const std::string& dir() const { return dir_; }
  std::string IssuingName() const { return ca_->Name(CaRole::kIssuing); }
  X509* Issuing() { return *ca_->Cert(CaRole::kIssuing); }
  X509* Root() { return *ca_->Cert(CaRole::kRoot); }
  CaKey& IssuingKey() { return **ca_->Key(CaRole::kIssuing); }
  // IssueDevices: n certificates of profile "device" (CN=<prefix>-<i>)
  // through the Issuer with `threads` signers and `chunk` per commit, on
  // `db` (the instance's connection when null). Fails if any is refused.
  Result<std::vector<IssueOutcome>> IssueDevices(size_t n, const std::string& prefix, uint32_t threads = 2,
                                                 size_t chunk = 64, CertDb* db = nullptr);
  // Connect: another connection to the instance's database.
  Result<std::unique_ptr<CertDb>> Connect() const;

 private:
  TestCa() = default;
  std::string dir_;
  std::unique_ptr<CaInstance> ca_;
  ossl::UniquePtr<EVP_PKEY> device_key_;  // one key for every test CSR (keeps tests fast)
};

// MakeCsr: a DER PKCS#10 request for CN=`cn`, signed with `key`.
Bytes MakeCsr(const std::string& cn, EVP_PKEY* key);
// ParseCert: the certificate in `der`, or null.
ossl::UniquePtr<X509> ParseCert(const Bytes& der);
// CrlSerials: the serials (lower-case hex) listed in a DER CRL that verifies
// with `issuer`'s key; an empty set plus a test failure otherwise.
std::set<std::string> CrlSerials(const Bytes& der, X509* issuer);

}  // namespace certvault::ca::testing

#endif  // CERTVAULT_CA_TESTING_TEST_CA_H_
