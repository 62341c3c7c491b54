// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Item ids: A.01-A.05 (policy as data), A.33-A.35 (trusted time) and
// E.32-E.37 (self-tests) are the framework items issue 17 names; the other
// rows give only the area letter (A policy and keys, E assurance, F
// operations), see docs/design/policy.md.
#include "ca/policy/policy_report.h"

#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <sqlite3.h>

#include <algorithm>
#include <fstream>

#include "ca/policy/policy_check.h"

#ifndef CV_VERSION
#define CV_VERSION "unknown"
#endif

namespace certvault::ca {
namespace {

constexpr char kNotEnforced[] = "not enforced yet";

std::string Join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : sep) + s;
  return out.empty() ? "(none)" : out;
}

std::string Or(const std::string& s, const char* fallback) { return s.empty() ? fallback : s; }

uint32_t MaxLeafDays(const CaConfig& cfg) {
  uint32_t max_days = 0;
  for (const auto& [name, p] : cfg.profiles) max_days = std::max(max_days, p.is_ca ? 0 : p.days);
  return max_days;
}

uint32_t UsageDays(const CaConfig& cfg) {
  return cfg.issuing_key_usage_days != 0 ? cfg.issuing_key_usage_days : cfg.issuing_days;
}

std::string ProfileAlgorithms(const CaConfig& cfg) {
  std::string out;
  for (const auto& [name, p] : cfg.profiles) out += (out.empty() ? "" : "; ") + name + ": " + Join(p.key_algorithms);
  return out;
}

// KeyItems: the policy itself, algorithms, crypto-periods, validity, time.
void KeyItems(const CaConfig& cfg, const Policy& p, const LiveStatus& live, std::vector<ReportItem>& out) {
  std::string ca_alg(KeyAlgorithmName(cfg.key_algorithm));
  out.push_back({"A.01-A.05", "Key-management policy stated as data",
                 p.name + " (version " + p.version + ") " + Or(p.path, ""),
                 "certvault-ca loads [ca] policy / --policy at start; a contradicting ca.toml does not start",
                 "loaded; ca.toml is consistent with it"});
  out.push_back(
      {"A", "Allowed algorithms and key sizes",
       Join(p.allowed_key_types) + "; RSA >= " + std::to_string(p.min_rsa_bits) + " bits",
       "[ca] key_algorithm and [profiles.*] key_algorithms at load; CSR key type at issuance (certvault-ca Issuer)",
       "CA key " + ca_alg + "; profiles " + ProfileAlgorithms(cfg)});
  out.push_back({"A", "Crypto-periods (SP 800-57 Part 1 5.3)",
                 "root key <= " + std::to_string(p.max_root_key_days) +
                     " d; issuing key usage <= " + std::to_string(p.max_issuing_key_usage_days) +
                     " d; issuing certificate <= " + std::to_string(p.max_issuing_cert_days) + " d" +
                     (p.max_key_days > 0 ? "; vault keys <= " + std::to_string(p.max_key_days) + " d" : ""),
                 "[ca] root_days, issuing_days, issuing_key_usage_days at load; the usage period at issuance; "
                 "certvault-ca rollover for the next key, crl retires an expired generation's keys; vault keys: "
                 "CKA_END_DATE set or checked when made, derived, delivered or changed",
                 "root " + std::to_string(cfg.root_days) + " d, issuing " + std::to_string(cfg.issuing_days) +
                     " d, issuing key usage " + std::to_string(UsageDays(cfg)) + " d"});
  out.push_back(
      {"A", "Certificate validity limit", "leaf certificates <= " + std::to_string(p.max_leaf_validity_days) + " d",
       "[profiles.*] days at load (certvault-ca)", "longest profile: " + std::to_string(MaxLeafDays(cfg)) + " d"});
  out.push_back({"A.33-A.35", "Trusted time bound",
                 "offset <= " + std::to_string(p.max_clock_offset_seconds) + " s" +
                     (p.require_time_source ? "; a time source is required" : ""),
                 "[ca] max_clock_skew_seconds (" + std::to_string(cfg.max_clock_skew_seconds) +
                     " s) and time_source at load; CaInstance::CheckClock before each signature",
                 Or(live.time_offset, "no time source configured")});
}

// GovernanceItems: PIN, audit, roles, quorum, backup (mostly not enforced yet).
void GovernanceItems(const Policy& p, const LiveStatus& live, std::vector<ReportItem>& out) {
  out.push_back(
      {"A", "PIN rules",
       "min length " + std::to_string(p.pin_min_length) + ", max attempts " + std::to_string(p.pin_max_attempts),
       kNotEnforced, "the token's own PIN policy applies"});
  out.push_back({"A", "Audited events", Join(p.audited_events),
                 "certvault-ca records issue, revoke, crl, init, rollover, refuse, policy-violation and clock-refused "
                 "in its hash-chained audit table; the names listed are not checked against it",
                 Or(live.last_audit, "no audit event yet") + "; audit verify: " + Or(live.audit_verify, "not run")});
  std::vector<std::string> pairs;
  for (const auto& s : p.separated) pairs.push_back(s[0] + "/" + s[1]);
  out.push_back({"A", "Roles and separation of duties", Join(p.roles) + "; separate: " + Join(pairs), kNotEnforced,
                 "every operator is named by --actor or the OS user"});
  out.push_back({"A", "Quorum for key ceremonies", std::to_string(p.quorum_k) + " of " + std::to_string(p.quorum_n),
                 kNotEnforced, "one token PIN unlocks the CA keys"});
  out.push_back({"F", "Backup rules",
                 std::string(p.backup_required ? "required" : "optional") +
                     ", every <= " + std::to_string(p.backup_max_interval_hours) + " h, " +
                     std::to_string(p.backup_copies) + " copies, " + (p.backup_encrypted ? "encrypted" : "unencrypted"),
                 kNotEnforced, "a restored database is detected against the token's CaState"});
}

void CommonItems(const CaConfig& cfg, const LiveStatus& live, std::vector<ReportItem>& out) {
  out.push_back({"E.32-E.37", "Self-tests and the error state",
                 "power-on known-answer tests; rerun every " + std::to_string(cfg.selftest_interval_s) + " s in serve",
                 "certvault-ca before every command ([server] selftest_interval_s)", Or(live.selftest, "unknown")});
  out.push_back(
      {"F", "Revocation status information",
       "full CRL every " + std::to_string(cfg.crl_next_update_hours) + " h, delta every " +
           std::to_string(cfg.delta_next_update_hours) + " h, OCSP responses valid " +
           std::to_string(cfg.ocsp_validity_minutes) + " min",
       "[ca] crl_next_update_hours, delta_next_update_hours, ocsp_validity_minutes (certvault-ca crl, ocsp serve)",
       "last full CRL number: " + Or(live.crl_number, "none") +
           "; certificates issued: " + Or(live.certificates, "unknown")});
}

std::string ProfilesText(const CaConfig& cfg) {
  std::string out;
  for (const auto& [name, p] : cfg.profiles) {
    out += (out.empty() ? "" : "; ") + name + ": " + std::to_string(p.days) + " d, key usage " + Join(p.key_usage) +
           ", EKU " + Join(p.extended_key_usage) + ", key types " + Join(p.key_algorithms);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> Cps(const CaConfig& cfg) {
  const Policy* p = cfg.policy.get();
  const std::string none = "Not stated by the configuration.";
  std::string ca_alg(KeyAlgorithmName(cfg.key_algorithm));
  return {
      {"1.1 Overview", "Private CA \"" + cfg.name + "\" operated with certvault-ca; issuing CA " + cfg.issuing_subject +
                           (cfg.root_subject.empty() ? " (external root)" : ", root " + cfg.root_subject) + "."},
      {"1.2 Document name and identification",
       p == nullptr ? none : p->name + ", version " + p->version + (p->oid.empty() ? "" : ", OID " + p->oid)},
      {"4.9 Certificate revocation and suspension", "CRL: " + Or(cfg.crl_url, "(no URL)") +
                                                        "; OCSP: " + Or(cfg.ocsp_url, "(no URL)") + "; next update " +
                                                        std::to_string(cfg.crl_next_update_hours) + " h."},
      {"5.2 Procedural controls (roles, quorum)",
       p == nullptr ? none
                    : "Roles " + Join(p->roles) + "; " + std::to_string(p->quorum_k) + " of " +
                          std::to_string(p->quorum_n) + " custodians (" + kNotEnforced + ")."},
      {"5.4 Audit logging procedures", p == nullptr ? none : "Audited events: " + Join(p->audited_events) + "."},
      {"5.5 Records archival / backup",
       p == nullptr ? none
                    : "Backups " + std::string(p->backup_required ? "required" : "optional") + ", at most every " +
                          std::to_string(p->backup_max_interval_hours) + " h."},
      {"6.1 Key pair generation and key sizes",
       "CA keys " + ca_alg + " generated in the PKCS#11 token \"" + cfg.token.label + "\"" +
           (p == nullptr ? "." : "; allowed: " + Join(p->allowed_key_types) + ".")},
      {"6.3.2 Certificate operational and key usage periods",
       "Root " + std::to_string(cfg.root_days) + " d, issuing CA " + std::to_string(cfg.issuing_days) +
           " d, issuing key used " + std::to_string(UsageDays(cfg)) + " d."},
      {"6.4 Activation data",
       p == nullptr ? none : "Token PIN of at least " + std::to_string(p->pin_min_length) + " characters."},
      {"6.8 Time-stamping", "Time source " + Or(cfg.time_source, "(none)") + ", bound " +
                                std::to_string(cfg.max_clock_skew_seconds) + " s."},
      {"7.1 Certificate profile", ProfilesText(cfg)},
  };
}

}  // namespace

PolicyReport BuildReport(const CaConfig& cfg, const LiveStatus& live) {
  PolicyReport r;
  r.title = "Key-management policy report: CA \"" + cfg.name + "\" (" + Or(live.generated_at, "now") + ")";
  if (cfg.policy != nullptr) {
    KeyItems(cfg, *cfg.policy, live, r.items);
    GovernanceItems(*cfg.policy, live, r.items);
  } else {
    r.items.push_back({"A.01-A.05", "Key-management policy stated as data", "(no policy configured)",
                       "[ca] policy in ca.toml or --policy", "no policy: nothing is checked against one"});
  }
  CommonItems(cfg, live, r.items);
  r.inventory = ComponentVersions(cfg, "/etc/os-release");
  r.cps = Cps(cfg);
  return r;
}

std::vector<std::pair<std::string, std::string>> ComponentVersions(const CaConfig& cfg, const std::string& os_release) {
  std::string os = "unknown";
  std::ifstream in(os_release);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("PRETTY_NAME=")) continue;
    os = line.substr(12);
    os.erase(std::remove(os.begin(), os.end(), '"'), os.end());
  }
  int pq = PQlibVersion();
  bool sqlite = cfg.database.starts_with("sqlite:");
  return {{"certvault", CV_VERSION},
          {"OpenSSL", OpenSSL_version(OPENSSL_VERSION)},
          {"SQLite", std::string(sqlite3_libversion()) + (sqlite ? " (database in use)" : "")},
          {"PostgreSQL libpq",
           std::to_string(pq / 10000) + "." + std::to_string(pq % 10000) + (sqlite ? "" : " (database in use)")},
          {"OS", os}};
}

}  // namespace certvault::ca
