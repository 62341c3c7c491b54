// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/config/ca_config.h"

#include <cpptoml.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "ca/config/toml_util.h"
#include "ca/policy/policy_check.h"
#include "src/base/status_macros.h"
#include "src/provider/pin_file.h"

namespace certvault::ca {
namespace {

std::string Absolute(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return dir + "/" + path;
}

// NormalizeDnsConstraints: RFC 5280 §4.2.1.10 writes a dNSName constraint
// as the domain itself ("devices.example.com" admits it and every name
// below it); the older ".devices.example.com" in ca.toml is accepted and
// written in that form.
void NormalizeDnsConstraints(std::vector<std::string>& names) {
  for (std::string& n : names) {
    if (n.starts_with("DNS:.")) n = "DNS:" + n.substr(5);
  }
}

Status LoadCaTable(const cpptoml::table& ca, CaConfig& cfg) {
  CV_RETURN_IF_ERROR(GetString(ca, "name", cfg.name));
  CV_RETURN_IF_ERROR(GetString(ca, "root_subject", cfg.root_subject));
  CV_RETURN_IF_ERROR(GetString(ca, "issuing_subject", cfg.issuing_subject));
  std::string alg(KeyAlgorithmName(cfg.key_algorithm));
  CV_RETURN_IF_ERROR(GetString(ca, "key_algorithm", alg));
  CV_ASSIGN_OR_RETURN(cfg.key_algorithm, ParseKeyAlgorithm(alg));
  std::string sig_alg;
  CV_RETURN_IF_ERROR(GetString(ca, "signature_algorithm", sig_alg));
  CV_ASSIGN_OR_RETURN(cfg.signature_algorithm, SignatureAlgorithmFor(cfg.key_algorithm, sig_alg));
  CV_RETURN_IF_ERROR(GetUint(ca, "root_days", 1, 36500, cfg.root_days));
  CV_RETURN_IF_ERROR(GetUint(ca, "issuing_days", 1, 36500, cfg.issuing_days));
  CV_RETURN_IF_ERROR(GetUint(ca, "issuing_key_usage_days", 0, 36500, cfg.issuing_key_usage_days));
  if (cfg.issuing_key_usage_days > cfg.issuing_days) {
    return InvalidArgumentError("ca.toml: [ca] issuing_key_usage_days must not exceed issuing_days");
  }
  uint32_t path_len = static_cast<uint32_t>(cfg.issuing_path_len);
  CV_RETURN_IF_ERROR(GetUint(ca, "issuing_path_len", 0, 8, path_len));
  cfg.issuing_path_len = static_cast<int>(path_len);
  CV_RETURN_IF_ERROR(GetStrings(ca, "permitted_names", cfg.permitted_names));
  CV_RETURN_IF_ERROR(GetStrings(ca, "excluded_names", cfg.excluded_names));
  NormalizeDnsConstraints(cfg.permitted_names);
  NormalizeDnsConstraints(cfg.excluded_names);
  CV_RETURN_IF_ERROR(GetString(ca, "crl_url", cfg.crl_url));
  CV_RETURN_IF_ERROR(GetString(ca, "delta_crl_url", cfg.delta_crl_url));
  CV_RETURN_IF_ERROR(GetString(ca, "root_crl_url", cfg.root_crl_url));
  if (cfg.crl_url.ends_with("full.crl")) {
    std::string base = cfg.crl_url.substr(0, cfg.crl_url.size() - 8);
    if (cfg.delta_crl_url.empty()) cfg.delta_crl_url = base + "delta.crl";
    if (cfg.root_crl_url.empty()) cfg.root_crl_url = base + "root.crl";
  }
  CV_RETURN_IF_ERROR(GetString(ca, "ocsp_url", cfg.ocsp_url));
  CV_RETURN_IF_ERROR(GetString(ca, "ca_issuers_url", cfg.ca_issuers_url));
  CV_RETURN_IF_ERROR(GetUint(ca, "crl_next_update_hours", 1, 8760, cfg.crl_next_update_hours));
  CV_RETURN_IF_ERROR(GetUint(ca, "delta_next_update_hours", 1, 8760, cfg.delta_next_update_hours));
  CV_RETURN_IF_ERROR(GetUint(ca, "ocsp_validity_minutes", 1, 10080, cfg.ocsp_validity_minutes));
  CV_RETURN_IF_ERROR(GetUint(ca, "crl_partitions", 1, 1024, cfg.crl_partitions));
  uint32_t max_csr = static_cast<uint32_t>(cfg.max_csr_bytes);
  CV_RETURN_IF_ERROR(GetUint(ca, "max_csr_bytes", 256, 1 << 20, max_csr));
  cfg.max_csr_bytes = max_csr;
  CV_RETURN_IF_ERROR(GetUint(ca, "sign_threads", 1, 64, cfg.sign_threads));
  CV_RETURN_IF_ERROR(GetBool(ca, "verify_issued", cfg.verify_issued));
  CV_RETURN_IF_ERROR(GetString(ca, "time_source", cfg.time_source));
  CV_RETURN_IF_ERROR(GetString(ca, "policy", cfg.policy_file));
  CV_RETURN_IF_ERROR(GetUint(ca, "max_clock_skew_seconds", 1, 3600, cfg.max_clock_skew_seconds));
  if (!cfg.time_source.empty() && !cfg.time_source.starts_with("ntp://")) {
    return InvalidArgumentError("ca.toml: [ca] time_source must be \"ntp://HOST[:PORT]\"");
  }
  if (cfg.issuing_subject.empty()) return InvalidArgumentError("ca.toml: [ca] issuing_subject is required");
  if (cfg.name.empty() || cfg.name.size() > 32) return InvalidArgumentError("ca.toml: [ca] name must be 1..32 chars");
  return OkStatus();
}

Status LoadTokenTable(const cpptoml::table& t, const std::string& dir, TokenConfig& token) {
  CV_RETURN_IF_ERROR(GetString(t, "module", token.module));
  CV_RETURN_IF_ERROR(GetString(t, "label", token.label));
  CV_RETURN_IF_ERROR(GetString(t, "pin_file", token.pin_file));
  CV_RETURN_IF_ERROR(GetString(t, "pin_env", token.pin_env));
  if (token.module.empty() || token.label.empty()) {
    return InvalidArgumentError("ca.toml: [token] module and label are required");
  }
  token.pin_file = Absolute(dir, token.pin_file);
  return OkStatus();
}

Status LoadAuditTable(const cpptoml::table& t, AuditConfig& audit) {
  CV_RETURN_IF_ERROR(GetUint(t, "checkpoint_records", 1, 10000000, audit.checkpoint_records));
  CV_RETURN_IF_ERROR(GetUint(t, "checkpoint_seconds", 1, 86400, audit.checkpoint_seconds));
  auto alert = t.get_table("alert");
  if (alert == nullptr) return OkStatus();
  CV_RETURN_IF_ERROR(GetString(*alert, "command", audit.alert_command));
  CV_RETURN_IF_ERROR(GetString(*alert, "syslog_priority", audit.alert_syslog_priority));
  CV_RETURN_IF_ERROR(GetString(*alert, "webhook", audit.alert_webhook));
  const std::string& p = audit.alert_syslog_priority;
  if (!p.empty() && p != "emerg" && p != "alert" && p != "crit" && p != "err" && p != "warning" && p != "notice" &&
      p != "info") {
    return InvalidArgumentError("ca.toml: [audit.alert] syslog_priority must be a syslog level (alert, crit, err, "
                                "warning, notice, info)");
  }
  if (!audit.alert_webhook.empty() && !audit.alert_webhook.starts_with("http://")) {
    return InvalidArgumentError("ca.toml: [audit.alert] webhook must be an http:// URL");
  }
  return OkStatus();
}

}  // namespace

Result<CaConfig> ParseConfig(const std::string& text, const std::string& dir) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<cpptoml::table> root, ParseToml(text, "ca.toml"));
  CaConfig cfg;
  cfg.dir = dir;
  auto ca = root->get_table("ca");
  auto token = root->get_table("token");
  if (ca == nullptr || token == nullptr) return InvalidArgumentError("ca.toml: [ca] and [token] tables are required");
  CV_RETURN_IF_ERROR(LoadCaTable(*ca, cfg));
  CV_RETURN_IF_ERROR(LoadTokenTable(*token, dir, cfg.token));
  if (auto db = root->get_table("database")) CV_RETURN_IF_ERROR(GetString(*db, "url", cfg.database));
  if (auto server = root->get_table("server")) {
    CV_RETURN_IF_ERROR(GetUint(*server, "selftest_interval_s", 0, 7 * 86400, cfg.selftest_interval_s));
  }
  if (auto audit = root->get_table("audit")) CV_RETURN_IF_ERROR(LoadAuditTable(*audit, cfg.audit));
  if (cfg.database.starts_with("sqlite:")) cfg.database = "sqlite:" + Absolute(dir, cfg.database.substr(7));
  if (auto profiles = root->get_table("profiles")) {
    for (const auto& [name, value] : *profiles) {
      if (!value->is_table()) return InvalidArgumentError("ca.toml: profiles." + name + " must be a table");
      CV_ASSIGN_OR_RETURN(Profile p, LoadProfile(name, *value->as_table()));
      cfg.profiles.emplace(name, std::move(p));
    }
  }
  if (cfg.profiles.empty()) return InvalidArgumentError("ca.toml: at least one [profiles.NAME] is required");
  return cfg;
}

Result<CaConfig> LoadConfig(const std::string& dir) {
  std::ifstream in(dir + "/ca.toml");
  if (!in) return NotFoundError("no ca.toml in " + dir + " (run certvault-ca init)");
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  CV_ASSIGN_OR_RETURN(CaConfig cfg, ParseConfig(text, dir));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(text.data(), text.size(), md, &md_len, EVP_sha256(), nullptr) == 1) {
    static const char kHex[] = "0123456789abcdef";
    for (unsigned int i = 0; i < md_len; ++i) {
      cfg.config_sha256 += kHex[md[i] >> 4];
      cfg.config_sha256 += kHex[md[i] & 15];
    }
  }
  CV_RETURN_IF_ERROR(ApplyPolicy(cfg));  // a contradicting configuration does not start
  return cfg;
}

Result<SecretBytes> ReadPin(const TokenConfig& token) {
  if (token.pin_env.empty() && !token.pin_file.empty()) {
    Result<SecretBytes> pin = provider::ReadPinFile(token.pin_file);  // the rules of every PIN file
    if (!pin.ok()) return FailedPreconditionError("[token] pin_file in ca.toml: " + std::string(pin.status().message()));
    return pin;
  }
  std::string pin;
  if (const char* v = token.pin_env.empty() ? nullptr : std::getenv(token.pin_env.c_str())) pin = v;
  if (pin.empty()) {
    return FailedPreconditionError("no token PIN: set [token] pin_file or pin_env in ca.toml");
  }
  SecretBytes out(pin, SecretAccess::Get());
  OPENSSL_cleanse(pin.data(), pin.size());
  return out;
}

}  // namespace certvault::ca
