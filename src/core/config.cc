// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/core/config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "src/base/status_macros.h"

namespace certvault::core {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

const char* GetEnv(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

Status LineError(int line, std::string_view what) {
  return InvalidArgumentError("config line " + std::to_string(line) + ": " + std::string(what));
}

Status ParseU32(std::string_view value, uint32_t min, uint32_t max, int line, uint32_t* out) {
  if (value.empty() || value.size() > 10) return LineError(line, "expected a number");
  uint64_t v = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return LineError(line, "expected a number");
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v < min || v > max) {
    return LineError(line, "value out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  *out = static_cast<uint32_t>(v);
  return OkStatus();
}

Status ParseMechanismList(std::string_view value, int line, std::set<MechanismType>* out) {
  out->clear();
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = Trim(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    if (item.empty()) continue;
    std::optional<MechanismType> mech = MechanismFromName(item);
    if (!mech) return LineError(line, "unknown mechanism '" + std::string(item) + "'");
    out->insert(*mech);
  }
  return OkStatus();
}

Status ParseVaultKey(std::string_view key, std::string_view value, int line, Config* config) {
  if (key == "kdf_memory_kib") return ParseU32(value, 8, 4u << 20, line, &config->kdf.memory_kib);
  if (key == "kdf_iterations") return ParseU32(value, 1, 64, line, &config->kdf.iterations);
  if (key == "kdf_parallelism") return ParseU32(value, 1, 16, line, &config->kdf.parallelism);
  if (key == "pin_max_tries") return ParseU32(value, 1, 1000, line, &config->pin_max_tries);
  if (key == "pin_min_length") return ParseU32(value, 1, 256, line, &config->pin_min_length);
  if (key == "so_pin_min_length") return ParseU32(value, 1, 256, line, &config->so_pin_min_length);
  if (key == "allow_weak_pin") {
    if (value != "true" && value != "false") return LineError(line, "allow_weak_pin must be true or false");
    config->allow_weak_pin = value == "true";
    return OkStatus();
  }
  if (key == "secure_heap_kib") return ParseU32(value, 0, 1u << 20, line, &config->secure_heap_kib);
  if (key == "time_source") {
    if (!value.empty() && (!value.starts_with("ntp://") || value.size() == 6)) {
      return LineError(line, "time_source must be ntp://HOST[:PORT]");
    }
    config->time_source = std::string(value);
    return OkStatus();
  }
  if (key == "max_clock_offset_s") return ParseU32(value, 1, 86400, line, &config->max_clock_offset_s);
  if (key == "clock_backward_tolerance_s") {
    return ParseU32(value, 0, 4000000000u, line, &config->clock_backward_tolerance_s);
  }
  if (key == "time_check_interval_s") return ParseU32(value, 1, 86400, line, &config->time_check_interval_s);
  if (key == "policy") {
    if (value.empty()) return LineError(line, "policy must name a policy.toml file");
    config->policy_path = std::string(value);
    return OkStatus();
  }
  return LineError(line, "unknown key '" + std::string(key) + "' in [vault]");
}

// ParseSection: "[vault]" -> "vault"; "[token \"x\"]" -> token label x.
Status ParseSection(std::string_view text, int line, std::string* section, std::string* token) {
  if (text.back() != ']') return LineError(line, "unterminated section header");
  std::string_view inner = Trim(text.substr(1, text.size() - 2));
  if (inner == "vault") {
    *section = "vault";
    return OkStatus();
  }
  if (inner == "daemon") {  // certvaultd and its clients (docs/config.md)
    *section = "daemon";
    return OkStatus();
  }
  if (inner.substr(0, 6) == "token " && inner.size() >= 9 && inner[6] == '"' && inner.back() == '"') {
    *section = "token";
    *token = std::string(inner.substr(7, inner.size() - 8));
    return OkStatus();
  }
  return LineError(line, "unknown section");
}

}  // namespace

std::optional<std::set<MechanismType>> Config::AllowedMechanisms(const std::string& token_label) const {
  auto it = mechanism_allow.find(token_label);
  if (it == mechanism_allow.end()) it = mechanism_allow.find("*");
  if (it == mechanism_allow.end()) return std::nullopt;
  return it->second;
}

Result<std::string> ResolveVaultDir(const std::string& explicit_dir) {
  if (!explicit_dir.empty()) return explicit_dir;
  if (const char* home = GetEnv("CERTVAULT_HOME")) return std::string(home);
  if (const char* xdg = GetEnv("XDG_DATA_HOME")) return std::string(xdg) + "/certvault";
  if (const char* home = GetEnv("HOME")) return std::string(home) + "/.local/share/certvault";
  return FailedPreconditionError("cannot locate the vault: set CERTVAULT_HOME");
}

Status ParseConfig(std::string_view text, Config* config) {
  std::string section, token;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = Trim(line);
    if (line.empty()) continue;
    if (line.front() == '[') {
      CV_RETURN_IF_ERROR(ParseSection(line, line_no, &section, &token));
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return LineError(line_no, "expected key = value");
    std::string_view key = Trim(line.substr(0, eq));
    std::string_view value = Trim(line.substr(eq + 1));
    if (section == "vault") {
      CV_RETURN_IF_ERROR(ParseVaultKey(key, value, line_no, config));
    } else if (section == "daemon") {
      // `socket` selects the daemon client; the rest are certvaultd's settings,
      // which certvaultd validates (daemon/daemon_config.cc).
      if (value.empty()) return LineError(line_no, "empty value");
      if (key == "socket") config->daemon_socket = std::string(value);
      config->daemon_settings[std::string(key)] = std::string(value);
    } else if (section == "token" && key == "mechanisms") {
      CV_RETURN_IF_ERROR(ParseMechanismList(value, line_no, &config->mechanism_allow[token]));
    } else {
      return LineError(line_no, "key outside a known section");
    }
  }
  return OkStatus();
}

namespace {

// LoadPolicyOf: reads config->policy_path (relative to the directory of the
// config file at `config_file`) into config->policy.
Status LoadPolicyOf(const std::string& config_file, Config* config) {
  if (config->policy_path.empty()) return OkStatus();
  std::string path = config->policy_path;
  if (path.front() != '/') {
    size_t slash = config_file.rfind('/');
    if (slash != std::string::npos) path = config_file.substr(0, slash + 1) + path;
  }
  // kFailedPrecondition (CKR_GENERAL_ERROR from C_Initialize), not the
  // parser's kNotFound/kInvalidArgument, which would map to handle/argument
  // errors that have nothing to do with the caller's call.
  Result<kmpolicy::Policy> policy = kmpolicy::LoadPolicy(path);
  if (!policy.ok()) return FailedPreconditionError("[vault] policy: " + std::string(policy.status().message()));
  config->policy_path = path;
  config->policy = std::make_shared<const kmpolicy::Policy>(std::move(*policy));
  return OkStatus();
}

}  // namespace

Result<Config> LoadConfig(const std::string& explicit_vault_dir, const std::string& config_path) {
  Config config;
  CV_ASSIGN_OR_RETURN(config.vault_dir, ResolveVaultDir(explicit_vault_dir));
  std::string path = config_path;
  if (path.empty()) {
    if (const char* env = GetEnv("CERTVAULT_CONF")) path = env;
  }
  if (path.empty()) return config;
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot read config file named by CERTVAULT_CONF");
  std::stringstream buf;
  buf << in.rdbuf();
  if (buf.str().size() > (1u << 20)) return InvalidArgumentError("config file too large");
  CV_RETURN_IF_ERROR(ParseConfig(buf.str(), &config));
  CV_RETURN_IF_ERROR(LoadPolicyOf(path, &config));
  return config;
}

Status CheckAgainstPolicy(const Config& config) {
  if (config.policy == nullptr) return OkStatus();
  const kmpolicy::Policy& p = *config.policy;
  auto refuse = [&](const std::string& what) {
    return FailedPreconditionError("the configuration contradicts the policy " + p.name + ": " + what);
  };
  if (config.allow_weak_pin && p.pin_min_length > Config::kWeakPinMinLength) {
    return refuse("allow_weak_pin (--allow-weak-pin) goes below [pin] min_length = " +
                  std::to_string(p.pin_min_length));
  }
  if (config.pin_max_tries > p.pin_max_attempts) {
    return refuse("pin_max_tries = " + std::to_string(config.pin_max_tries) + " exceeds [pin] max_attempts = " +
                  std::to_string(p.pin_max_attempts));
  }
  if (config.max_clock_offset_s > p.max_clock_offset_seconds) {
    return refuse("max_clock_offset_s exceeds [time] max_clock_offset_seconds = " +
                  std::to_string(p.max_clock_offset_seconds));
  }
  if (p.require_time_source && config.time_source.empty()) return refuse("[time] require_time_source needs time_source");
  return OkStatus();
}

}  // namespace certvault::core
