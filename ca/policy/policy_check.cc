// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/policy/policy_check.h"

#include <algorithm>
#include <cstdlib>

#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

Status Contradicts(const std::string& setting, const std::string& value, const std::string& rule) {
  return FailedPreconditionError("configuration contradicts policy: ca.toml " + setting + " = " + value +
                                 " but policy.toml " + rule);
}

std::string Days(uint32_t days) { return std::to_string(days); }

Status CheckPeriods(const Policy& p, const CaConfig& cfg) {
  if (!cfg.root_subject.empty() && cfg.root_days > p.max_root_key_days) {
    return Contradicts("[ca] root_days", Days(cfg.root_days),
                       "[crypto_periods] max_root_key_days = " + Days(p.max_root_key_days));
  }
  if (cfg.issuing_days > p.max_issuing_cert_days) {
    return Contradicts("[ca] issuing_days", Days(cfg.issuing_days),
                       "[crypto_periods] max_issuing_cert_days = " + Days(p.max_issuing_cert_days));
  }
  // 0 in ca.toml: the key issues for as long as its certificate is valid.
  uint32_t usage = cfg.issuing_key_usage_days != 0 ? cfg.issuing_key_usage_days : cfg.issuing_days;
  if (usage > p.max_issuing_key_usage_days) {
    return Contradicts("[ca] issuing_key_usage_days",
                       Days(cfg.issuing_key_usage_days) + " (effective " + Days(usage) + ")",
                       "[crypto_periods] max_issuing_key_usage_days = " + Days(p.max_issuing_key_usage_days));
  }
  return OkStatus();
}

Status CheckProfiles(const Policy& p, const CaConfig& cfg) {
  for (const auto& [name, profile] : cfg.profiles) {
    if (!profile.is_ca && profile.days > p.max_leaf_validity_days) {
      return Contradicts("[profiles." + name + "] days", Days(profile.days),
                         "[certificates] max_leaf_validity_days = " + Days(p.max_leaf_validity_days));
    }
    for (const std::string& alg : profile.key_algorithms) {
      if (!KeyTypeAllowed(p, alg)) {
        return Contradicts("[profiles." + name + "] key_algorithms", "[... \"" + alg + "\" ...]",
                           "[algorithms] does not allow " + alg);
      }
    }
  }
  return OkStatus();
}

Status CheckTime(const Policy& p, const CaConfig& cfg) {
  if (cfg.max_clock_skew_seconds > p.max_clock_offset_seconds) {
    return Contradicts("[ca] max_clock_skew_seconds", std::to_string(cfg.max_clock_skew_seconds),
                       "[time] max_clock_offset_seconds = " + std::to_string(p.max_clock_offset_seconds));
  }
  if (p.require_time_source && cfg.time_source.empty()) {
    return Contradicts("[ca] time_source", "\"\"", "[time] require_time_source = true");
  }
  return OkStatus();
}

}  // namespace

bool KeyTypeAllowed(const Policy& policy, const std::string& type) {
  if (std::find(policy.allowed_key_types.begin(), policy.allowed_key_types.end(), type) ==
      policy.allowed_key_types.end()) {
    return false;
  }
  if (!type.starts_with("rsa-")) return true;
  return std::strtoul(type.c_str() + 4, nullptr, 10) >= policy.min_rsa_bits;
}

Status CheckConfigAgainstPolicy(const Policy& policy, const CaConfig& cfg) {
  std::string ca_alg(KeyAlgorithmName(cfg.key_algorithm));
  if (!KeyTypeAllowed(policy, ca_alg)) {
    return Contradicts("[ca] key_algorithm", "\"" + ca_alg + "\"", "[algorithms] does not allow " + ca_alg);
  }
  CV_RETURN_IF_ERROR(CheckPeriods(policy, cfg));
  CV_RETURN_IF_ERROR(CheckProfiles(policy, cfg));
  return CheckTime(policy, cfg);
}

Status CheckCsrKeyType(const Policy* policy, const std::string& key_type) {
  if (policy == nullptr || KeyTypeAllowed(*policy, key_type)) return OkStatus();
  return PermissionDeniedError("policy: key type " + key_type + " is not allowed (policy.toml [algorithms] " +
                               "allowed_key_types, min_rsa_bits = " + std::to_string(policy->min_rsa_bits) + ")");
}

Status ApplyPolicy(CaConfig& cfg) {
  const char* env = std::getenv(kPolicyEnv);
  std::string path = cfg.policy_file;
  if (!path.empty() && path[0] != '/') path = cfg.dir + "/" + path;
  if (env != nullptr && *env != '\0') path = env;  // relative to the working directory
  if (path.empty()) return OkStatus();
  CV_ASSIGN_OR_RETURN(Policy policy, LoadPolicy(path));
  CV_RETURN_IF_ERROR(CheckConfigAgainstPolicy(policy, cfg));
  cfg.policy = std::make_shared<const Policy>(std::move(policy));
  return OkStatus();
}

}  // namespace certvault::ca
