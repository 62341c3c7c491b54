// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CaConfig: a CA instance directory's ca.toml (format in docs/design/ca.md).
// Relative paths in the file are relative to the instance directory. The PIN
// itself is never in ca.toml: it names a file (pin_file) or an environment
// variable (pin_env).
#ifndef CERTVAULT_CA_CONFIG_CA_CONFIG_H_
#define CERTVAULT_CA_CONFIG_CA_CONFIG_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ca/p11/ca_key.h"
#include "ca/policy/policy.h"
#include "ca/profile/profile.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"

namespace certvault::ca {

struct TokenConfig {
  std::string module;     // path of the PKCS#11 module
  std::string label;      // token label
  std::string pin_file;   // absolute after loading; or empty
  std::string pin_env;    // environment variable holding the PIN; or empty
};

// AuditConfig: [audit] and [audit.alert] (docs/design/ca.md, "Audit trail").
struct AuditConfig {
  uint32_t checkpoint_records = 1000;  // a signed checkpoint after this many records...
  uint32_t checkpoint_seconds = 300;   // ...or this many seconds (and at the end of every command)
  std::string alert_command;           // run by /bin/sh -c with CV_ALERT_* in the environment
  std::string alert_syslog_priority;   // "", or a syslog level name: "alert", "crit", "err", "warning", "notice"
  std::string alert_webhook;           // "", or http://HOST[:PORT]/PATH: a JSON POST
};

struct CaConfig {
  std::string dir;                  // the instance directory (absolute)
  std::string name = "ca";          // prefix of the token key labels
  std::string root_subject;         // empty with an external root
  std::string issuing_subject;
  KeyAlgorithm key_algorithm = KeyAlgorithm::kEcP256;
  // signature_algorithm: how every CA key signs (ca.toml "ecdsa", "rsa-pkcs1"
  // or "rsa-pss"; default: the key type's, see SignatureAlgorithmFor).
  x509::SignatureAlgorithm signature_algorithm = x509::SignatureAlgorithm::kEcdsaSha256;
  uint32_t root_days = 7300;
  uint32_t issuing_days = 3650;
  // issuing_key_usage_days: how long the issuing key issues certificates,
  // from its certificate's notBefore (0: as long as the certificate is
  // valid); CRLs and OCSP go on after it (ca/issuance/usage_period.h).
  uint32_t issuing_key_usage_days = 0;
  int issuing_path_len = 0;
  std::vector<std::string> permitted_names;  // nameConstraints of the issuing CA, e.g. "DNS:.example.com"
  std::vector<std::string> excluded_names;
  std::string crl_url;              // CRL distribution point in issued certificates
  std::string delta_crl_url;        // freshestCRL in full CRLs (default: crl_url with full -> delta)
  std::string root_crl_url;         // the root's CRL (ARL), CRL DP of the issuing CA (default: crl_url with full -> root)
  std::string ocsp_url;             // AIA id-ad-ocsp
  std::string ca_issuers_url;       // AIA id-ad-caIssuers
  uint32_t crl_next_update_hours = 168;
  uint32_t delta_next_update_hours = 24;
  uint32_t ocsp_validity_minutes = 60;
  uint32_t crl_partitions = 1;      // >1: partitioned CRLs with an issuing distribution point
  std::string database = "sqlite:ca.db";  // "sqlite:PATH" or a PostgreSQL connection string
  size_t max_csr_bytes = 16384;
  uint32_t sign_threads = 2;
  // verify_issued: verify every token signature on a leaf certificate before
  // it is stored (one ECDSA verify, ~25% of the issuance cost). CA
  // certificates, CRLs and OCSP responses are always verified.
  bool verify_issued = true;
  // time_source: "ntp://HOST[:PORT]" (SNTP, RFC 4330) or empty. When set,
  // nothing is signed while the local clock is more than
  // max_clock_skew_seconds away from it.
  std::string time_source;
  uint32_t max_clock_skew_seconds = 10;
  // selftest_interval_s ([server]): `ocsp serve` reruns the power-on
  // self-tests this often (0 = never); once one fails it signs nothing more
  // (docs/design/selftest.md).
  uint32_t selftest_interval_s = 3600;
  // policy_file ([ca] policy): the policy.toml the configuration must
  // satisfy (ca/policy/policy_check.h); policy: it, once loaded and checked.
  std::string policy_file;
  std::shared_ptr<const Policy> policy;
  TokenConfig token;
  std::map<std::string, Profile> profiles;
  AuditConfig audit;
  // config_sha256: hex SHA-256 of ca.toml as read by LoadConfig (the audit
  // chain records a change of it; "" from ParseConfig alone).
  std::string config_sha256;
};

// LoadConfig: reads DIR/ca.toml. kNotFound when absent; kInvalidArgument
// naming the key for a malformed or inconsistent file.
Result<CaConfig> LoadConfig(const std::string& dir);
// ParseConfig: the same from text (tests, fuzzing).
Result<CaConfig> ParseConfig(const std::string& text, const std::string& dir);
// ReadPin: the token PIN from pin_file (first line) or pin_env.
// kFailedPrecondition when neither is set or the source is empty.
Result<SecretBytes> ReadPin(const TokenConfig& token);
// A commented ca.toml for `init` to start from: RenderConfig (ca_setup.h).

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_CONFIG_CA_CONFIG_H_
