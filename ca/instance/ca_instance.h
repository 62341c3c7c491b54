// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CaInstance: an opened CA directory: ca.toml, the database, the token and
// the CA certificates (root.pem, issuing.pem, ocsp.pem written by init). Key
// labels in the token and CA names in the database are "<name>-root",
// "<name>-issuing" and "<name>-ocsp" (<name> from [ca] name).
#ifndef CERTVAULT_CA_INSTANCE_CA_INSTANCE_H_
#define CERTVAULT_CA_INSTANCE_CA_INSTANCE_H_

#include <memory>
#include <string>

#include "ca/config/ca_config.h"
#include "ca/db/cert_db.h"
#include "ca/p11/ca_key.h"

namespace certvault::ca {

enum class CaRole { kRoot, kIssuing, kOcsp };

class CaInstance {
 public:
  // Open: config + database; with `token`, also logs in to the token.
  // `pin_file`, when non-empty, replaces ca.toml's PIN source.
  static Result<std::unique_ptr<CaInstance>> Open(const std::string& dir, bool token, const std::string& pin_file = "");
  // Init: creates the hierarchy (see ca_init.cc) in an opened instance.
  // external_root: only the issuing key and DIR/issuing.csr are produced.
  Status Init(bool external_root, const std::string& actor);
  // InstallIssuing: an externally signed issuing certificate + its root.
  Status InstallIssuing(const std::string& cert_pem_path, const std::string& root_pem_path, const std::string& actor);

  const CaConfig& config() const { return config_; }
  CertDb& db() { return *db_; }
  std::string Name(CaRole role) const;
  std::string CertPath(CaRole role) const;
  // Cert: the role's certificate (loaded on demand). kFailedPrecondition
  // before init.
  Result<X509*> Cert(CaRole role);
  // Key: the role's key in the token (opened on demand).
  Result<CaKey*> Key(CaRole role);

 private:
  CaInstance() = default;
  Status IssueOcspSigner(const std::string& actor);
  Status StoreCaCert(CaRole signer, const Bytes& der, const std::string& subject, const std::string& profile,
                     const std::string& actor);

  CaConfig config_;
  std::unique_ptr<CertDb> db_;
  std::unique_ptr<CaToken> token_;
  ossl::UniquePtr<X509> certs_[3];
  std::unique_ptr<CaKey> keys_[3];
};

// ReadPemCert / WritePem: certificate files of the instance.
Result<ossl::UniquePtr<X509>> ReadPemCert(const std::string& path);
Status WriteFile(const std::string& path, std::string_view data);
Result<Bytes> CertDer(X509* cert);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_INSTANCE_CA_INSTANCE_H_
