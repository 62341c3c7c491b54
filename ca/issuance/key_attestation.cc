// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/issuance/key_attestation.h"

#include <openssl/pem.h>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/provision/provision.h"

namespace certvault::ca {
namespace {

struct StoreFree {
  void operator()(X509_STORE* s) const noexcept { X509_STORE_free(s); }
};

// AddPemFile: every certificate of one PEM file; kInvalidArgument if none.
Status AddPemFile(X509_STORE* store, const std::string& path) {
  ossl::UniquePtr<BIO> bio(BIO_new_file(path.c_str(), "r"));
  if (bio == nullptr) {
    ossl::ClearErrors();
    return InvalidArgumentError("attestation_roots: cannot read " + path);
  }
  int added = 0;
  while (true) {
    ossl::UniquePtr<X509> x(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (x == nullptr) break;
    if (X509_STORE_add_cert(store, x.get()) != 1) return ossl::OpenSslError("X509_STORE_add_cert");
    ++added;
  }
  ossl::ClearErrors();  // the end of the file reads as an error
  if (added == 0) return InvalidArgumentError("attestation_roots: no certificate in " + path);
  return OkStatus();
}

}  // namespace

Result<std::shared_ptr<X509_STORE>> LoadAttestationRoots(const Profile& profile, const std::string& base_dir) {
  std::shared_ptr<X509_STORE> store(X509_STORE_new(), StoreFree());
  if (store == nullptr) return ossl::OpenSslError("X509_STORE_new");
  for (const std::string& file : profile.attestation_roots) {
    std::string path = file.starts_with("/") || base_dir.empty() ? file : base_dir + "/" + file;
    CV_RETURN_IF_ERROR(AddPemFile(store.get(), path));
  }
  return store;
}

Status CheckCsrAttestation(const ParsedCsr& csr, X509_STORE* roots) {
  if (csr.content.attestation_chain.empty()) {
    return PermissionDeniedError("the profile requires a key attestation (cvKeyAttestationChain: CSR attribute "
                                 "or CRMF template extension; certvault csr/enroll --attest)");
  }
  Result<std::vector<Bytes>> chain = provision::DecodeAttestationChain(csr.content.attestation_chain);
  if (!chain.ok()) return PermissionDeniedError("key attestation: " + std::string(chain.status().message()));
  return provision::VerifyKeyAttestation(*chain, csr.public_key.get(), roots).status();
}

}  // namespace certvault::ca
