// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Profile: what a certificate of one kind looks like and what a CSR may ask
// for. The CSR contributes only its public key, the subject attributes listed
// in subject_allowed and the subjectAltNames the SAN rules permit; the CA sets
// everything else (validity, key usage, EKU, basic constraints, policies, CRL
// DP, AIA). See docs/design/ca.md for the ca.toml keys.
#ifndef CERTVAULT_CA_PROFILE_PROFILE_H_
#define CERTVAULT_CA_PROFILE_PROFILE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "src/base/result.h"
#include "src/crypto/x509_build.h"

namespace certvault::ca {

struct Profile {
  std::string name;
  uint32_t days = 365;
  std::vector<std::string> key_usage = {"digitalSignature"};  // OpenSSL names
  std::vector<std::string> extended_key_usage;               // "serverAuth", "clientAuth", ...
  bool is_ca = false;
  int path_len = -1;  // CA only; -1 = absent
  std::vector<std::string> subject_allowed = {"CN"};          // attribute short names copied from the CSR
  std::vector<std::string> subject_required = {"CN"};
  std::vector<std::pair<std::string, std::string>> subject_fixed;  // set by the CA, after the CSR's
  std::vector<std::string> san_types = {"DNS"};               // "DNS", "IP", "email", "URI"
  std::vector<std::string> san_dns_suffixes;                  // empty = any DNS name
  size_t max_sans = 8;
  bool require_san = false;
  // allow_wildcards: DNS names (SANs and CN) with a leading "*." label.
  // Refused unless the profile says so (ca.toml allow_wildcards = true).
  bool allow_wildcards = false;
  std::vector<std::string> key_algorithms = {"ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096"};
  std::vector<std::string> policies;                          // certificatePolicies OIDs
  // internal: a profile the CA uses for its own certificates only (ca.toml
  // `internal = true`; only "ocsp", the delegated OCSP signer). `issue`
  // refuses it.
  bool internal = false;
  // require_attestation: a CSR is accepted only with a key attestation
  // (CSR attribute cvKeyAttestationChain, docs/formats/update-package.md)
  // that chains to one of attestation_roots (PEM files; relative paths are
  // relative to the instance directory) and states the key was generated in
  // a vault and never extractable. Issue 14.
  bool require_attestation = false;
  std::vector<std::string> attestation_roots;
  // Set by the CA for its own certificates, not from ca.toml profiles:
  std::vector<std::string> permitted_names;  // nameConstraints (CA certificates)
  std::vector<std::string> excluded_names;
  bool ocsp_nocheck = false;                 // id-pkix-ocsp-nocheck (the OCSP signer)
  bool revocation_pointers = true;           // CRL DP and AIA from ca.toml
  bool aia = true;                           // with revocation_pointers: AIA too (not the OCSP signer's)
  std::string crl_dp;                        // CRL DP of a CA certificate (the root's ARL); "" = none
};

// SubjectEntry: one RDN attribute (short name, UTF-8 value).
struct SubjectEntry {
  std::string field;
  std::string value;
};

// CsrContent: what the CA read from a verified CSR.
struct CsrContent {
  std::vector<SubjectEntry> subject;
  std::vector<x509::SanEntry> sans;
  std::string key_algorithm;  // "ec-p256", "rsa-2048", "ed25519", ... or "unsupported"
  Bytes attestation_chain;    // DER value of the cvKeyAttestationChain attribute; empty if none
};

// Approved: the subject and SANs the certificate will carry.
struct Approved {
  std::vector<SubjectEntry> subject;
  std::vector<x509::SanEntry> sans;
};

// CheckAgainstProfile: kPermissionDenied with a reason naming the rule when
// the CSR asks for something the profile does not allow. Repeated SANs
// (DNS and email compared without case) are kept once.
Result<Approved> CheckAgainstProfile(const Profile& profile, const CsrContent& csr);

// ValidateProfile: kInvalidArgument for a profile that cannot produce a
// conforming certificate (unknown key usage, bad OID, a key usage that does
// not fit one of its key_algorithms, ...).
Status ValidateProfile(const Profile& profile);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_PROFILE_PROFILE_H_
