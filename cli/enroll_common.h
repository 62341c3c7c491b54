// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// What `enroll`, `renew` and `revoke` share (cli/cmd_enroll.cc,
// cli/cmd_renew.cc): the EST exchange and its checks, the current
// certificate of a vault key, its atomic replacement, a vault key through
// certvault's provider, and the CMP target of --server/--trust.
#ifndef CERTVAULT_CLI_ENROLL_COMMON_H_
#define CERTVAULT_CLI_ENROLL_COMMON_H_

#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/cmp_client.h"
#include "cli/command_context.h"
#include "cli/est_client.h"
#include "cli/provider_key.h"
#include "cli/rollback.h"

namespace certvault::cli {

// Required: the non-empty value of --name; kInvalidArgument otherwise.
Result<std::string> Required(const Args& args, std::string_view name);

// HasCertificate: a certificate object with this CKA_VALUE exists.
Result<bool> HasCertificate(Session& session, const Bytes& der);

// Issued: a checked certificate and the CA certificates that came with it.
struct Issued {
  Bytes leaf;
  std::vector<Bytes> chain;  // issuing CA first, as the server sent them
};

// Enroll: EST cacerts and `op` (simpleenroll, simplereenroll) of `csr` over
// verified TLS 1.3, then the checks: a certificate with public key `spki`
// that chains to `anchors` and is what `csr` asked for. kPermissionDenied
// when refused or when the answer fails a check.
Result<Issued> Enroll(const EstUrl& url, const std::vector<Bytes>& anchors, const std::string& op,
                      const std::string& auth, const Bytes& csr, const Bytes& spki, EstTls tls = {});

// StoreChain: the CA certificates of `issued` not yet in the vault (by
// CKA_VALUE), labelled by their CN; each object made is added to `rollback`.
Status StoreChain(OpenedToken& t, Rollback& rollback, const Issued& issued);

// Report: the stored certificate's URI (`what`: "enrolled", "renewed", ...).
void Report(Context& ctx, const OpenedToken& t, const ObjectInfo& key, bool made, const Issued& issued,
            std::string_view what);

// SubjectText: the certificate's subject in ParseSubject form, in DER order.
Result<std::string> SubjectText(X509* cert);

// SansOf: the certificate's DNS and IPv4 subjectAltNames (what `enroll`
// puts into a CSR), for the re-enrollment CSR.
Result<std::vector<x509::SanEntry>> SansOf(X509* cert);

// Current: a certificate in the vault and its private key (same CKA_ID).
struct Current {
  ObjectInfo cert;
  Bytes der;
  ossl::UniquePtr<X509> x509;
  ObjectInfo key;
};

// FindCurrent: the one certificate matching `cert_sel` and its private key
// (same CKA_ID); kObjectHandleInvalid-like errors when either is missing.
Result<Current> FindCurrent(OpenedToken& t, const ObjectSelector& cert_sel);

// Replace: the new certificate, with the old one's label and CKA_ID, takes
// the old object's place in one vault transaction (ReplaceCertificate, also
// through certvaultd): no reader ever sees neither or both, and a crash
// leaves the old or the new one.
Status Replace(OpenedToken& t, const Current& cur, const Bytes& der);

// TlsKey: the private key of `cur` through certvault's provider
// (--provider-module, --vault), logged in with `pin`.
Result<std::unique_ptr<ProviderKey>> TlsKey(Context& ctx, OpenedToken& t, const Current& cur, const SecretBytes& pin);

// CmpTarget: --server for --protocol cmp (path default
// /.well-known/cmp/p/<profile>, or /.well-known/cmp when `profile` is
// empty) and the --trust anchors (no fingerprint
// bootstrap: that is EST's cacerts).
struct CmpTarget {
  CmpUrl url;
  std::vector<Bytes> anchors;
};
Result<CmpTarget> ParseCmpTarget(const Args& args, const std::string& server, const std::string& profile);

}  // namespace certvault::cli

#endif  // CERTVAULT_CLI_ENROLL_COMMON_H_
