// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/policy/policy.h"

#include <cpptoml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "src/base/status_macros.h"

namespace certvault::kmpolicy {
namespace {

// ParseToml: the document, or kInvalidArgument (cpptoml throws on bad syntax;
// nothing may escape into the PKCS#11 module).
Result<std::shared_ptr<cpptoml::table>> ParseToml(const std::string& text) {
  try {
    std::istringstream in(text);
    cpptoml::parser parser(in);
    return parser.parse();
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("policy.toml: ") + e.what());
  }
}

// Reader: typed reads from one table; every error names "[table] key".
class Reader {
 public:
  Reader(const cpptoml::table& t, std::string table) : t_(t), table_(std::move(table)) {}

  Status Text(const std::string& key, std::string& out) {
    if (!Seen(key)) return OkStatus();
    auto v = t_.get_as<std::string>(key);
    if (!v) return Bad(key, "must be a string");
    out = *v;
    return OkStatus();
  }
  Status Flag(const std::string& key, bool& out) {
    if (!Seen(key)) return OkStatus();
    auto v = t_.get_as<bool>(key);
    if (!v) return Bad(key, "must be true or false");
    out = *v;
    return OkStatus();
  }
  Status Uint(const std::string& key, uint32_t min, uint32_t max, uint32_t& out) {
    if (!Seen(key)) return OkStatus();
    auto v = t_.get_as<int64_t>(key);
    if (!v || *v < min || *v > max) {
      return Bad(key, "must be an integer in " + std::to_string(min) + ".." + std::to_string(max));
    }
    out = static_cast<uint32_t>(*v);
    return OkStatus();
  }
  Status Strings(const std::string& key, std::vector<std::string>& out) {
    if (!Seen(key)) return OkStatus();
    auto v = t_.get_array_of<std::string>(key);
    if (!v) return Bad(key, "must be an array of strings");
    out = *v;
    return OkStatus();
  }
  // Done: kInvalidArgument for a key this table does not define (a typo
  // must not silently leave a default in force).
  Status Done() const {
    for (const auto& [key, value] : t_) {
      if (seen_.count(key) == 0) return Bad(key, "is not a policy key");
    }
    return OkStatus();
  }
  Status Bad(const std::string& key, const std::string& what) const {
    return InvalidArgumentError("policy.toml: [" + table_ + "] " + key + " " + what);
  }

 private:
  bool Seen(const std::string& key) {
    seen_.insert(key);
    return t_.contains(key);
  }
  const cpptoml::table& t_;
  std::string table_;
  std::set<std::string> seen_;
};

using TableFn = Status (*)(Reader&, Policy&);

Status ReadMeta(Reader& r, Policy& p) {
  CV_RETURN_IF_ERROR(r.Text("name", p.name));
  CV_RETURN_IF_ERROR(r.Text("version", p.version));
  CV_RETURN_IF_ERROR(r.Text("oid", p.oid));
  if (p.name.empty() || p.name.size() > 200) return r.Bad("name", "must be 1..200 characters");
  return OkStatus();
}

Status ReadAlgorithms(Reader& r, Policy& p) {
  CV_RETURN_IF_ERROR(r.Strings("allowed_key_types", p.allowed_key_types));
  CV_RETURN_IF_ERROR(r.Uint("min_rsa_bits", 2048, 16384, p.min_rsa_bits));
  if (p.allowed_key_types.empty()) return r.Bad("allowed_key_types", "must name at least one key type");
  for (const std::string& t : p.allowed_key_types) {
    if (!IsKnownKeyType(t)) return r.Bad("allowed_key_types", "names an unknown key type \"" + t + "\"");
  }
  return OkStatus();
}

Status ReadPeriods(Reader& r, Policy& p) {
  CV_RETURN_IF_ERROR(r.Uint("max_root_key_days", 1, 36500, p.max_root_key_days));
  CV_RETURN_IF_ERROR(r.Uint("max_issuing_key_usage_days", 1, 36500, p.max_issuing_key_usage_days));
  CV_RETURN_IF_ERROR(r.Uint("max_issuing_cert_days", 1, 36500, p.max_issuing_cert_days));
  CV_RETURN_IF_ERROR(r.Uint("max_key_days", 0, 36500, p.max_key_days));
  return OkStatus();
}

Status ReadCertificates(Reader& r, Policy& p) {
  return r.Uint("max_leaf_validity_days", 1, 36500, p.max_leaf_validity_days);
}

Status ReadPin(Reader& r, Policy& p) {
  CV_RETURN_IF_ERROR(r.Uint("min_length", 4, 256, p.pin_min_length));
  return r.Uint("max_attempts", 1, 1000, p.pin_max_attempts);
}

Status ReadTime(Reader& r, Policy& p) {
  CV_RETURN_IF_ERROR(r.Uint("max_clock_offset_seconds", 1, 3600, p.max_clock_offset_seconds));
  return r.Flag("require_time_source", p.require_time_source);
}

Status ReadAudit(Reader& r, Policy& p) { return r.Strings("events", p.audited_events); }

Status ReadRoles(Reader& r, Policy& p) {
  CV_RETURN_IF_ERROR(r.Strings("names", p.roles));
  std::vector<std::string> pairs;
  CV_RETURN_IF_ERROR(r.Strings("separate", pairs));
  std::set<std::string> known(p.roles.begin(), p.roles.end());
  for (const std::string& pair : pairs) {
    size_t slash = pair.find('/');
    std::string a = pair.substr(0, slash);
    std::string b = slash == std::string::npos ? "" : pair.substr(slash + 1);
    if (known.count(a) == 0 || known.count(b) == 0 || a == b) {
      return r.Bad("separate", "entry \"" + pair + "\" must be \"ROLE/OTHER\" with two different roles of names");
    }
    p.separated.push_back({a, b});
  }
  return OkStatus();
}

Status ReadQuorum(Reader& r, Policy& p) {
  CV_RETURN_IF_ERROR(r.Uint("k", 1, 64, p.quorum_k));
  CV_RETURN_IF_ERROR(r.Uint("n", 1, 64, p.quorum_n));
  if (p.quorum_k > p.quorum_n) return r.Bad("k", "must not exceed n");
  return OkStatus();
}

Status ReadBackup(Reader& r, Policy& p) {
  CV_RETURN_IF_ERROR(r.Flag("required", p.backup_required));
  CV_RETURN_IF_ERROR(r.Uint("max_interval_hours", 1, 8760, p.backup_max_interval_hours));
  CV_RETURN_IF_ERROR(r.Flag("encrypted", p.backup_encrypted));
  return r.Uint("copies", 1, 16, p.backup_copies);
}

const std::map<std::string, TableFn>& Tables() {
  static const std::map<std::string, TableFn> kTables = {{"policy", ReadMeta},
                                                         {"algorithms", ReadAlgorithms},
                                                         {"crypto_periods", ReadPeriods},
                                                         {"certificates", ReadCertificates},
                                                         {"pin", ReadPin},
                                                         {"time", ReadTime},
                                                         {"audit", ReadAudit},
                                                         {"roles", ReadRoles},
                                                         {"quorum", ReadQuorum},
                                                         {"backup", ReadBackup}};
  return kTables;
}

Status ReadPolicyTables(const cpptoml::table& root, Policy& p) {
  for (const auto& [name, value] : root) {
    if (Tables().count(name) == 0) return InvalidArgumentError("policy.toml: unknown table or key \"" + name + "\"");
    if (!value->is_table()) return InvalidArgumentError("policy.toml: " + name + " must be a table [" + name + "]");
  }
  for (const auto& [name, fn] : Tables()) {
    auto t = root.get_table(name);
    if (t == nullptr) continue;
    Reader r(*t, name);
    CV_RETURN_IF_ERROR(fn(r, p));
    CV_RETURN_IF_ERROR(r.Done());
  }
  return OkStatus();
}

}  // namespace

bool IsKnownKeyType(const std::string& type) {
  static const std::set<std::string> kNamed = {"ec-p256", "ec-p384", "ec-p521", "ed25519", "ed448"};
  if (kNamed.count(type) != 0) return true;
  if (!type.starts_with("rsa-") || type.size() > 9 || type.size() < 8) return false;
  std::string bits = type.substr(4);
  if (!std::all_of(bits.begin(), bits.end(), [](char c) { return c >= '0' && c <= '9'; }) || bits[0] == '0') {
    return false;
  }
  int n = std::stoi(bits);
  return n >= 2048 && n <= 16384;
}

Result<Policy> ParsePolicy(const std::string& text) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<cpptoml::table> root, ParseToml(text));
  Policy p;
  CV_RETURN_IF_ERROR(ReadPolicyTables(*root, p));
  return p;
}

Result<Policy> LoadPolicy(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot read the policy file " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  Result<Policy> p = ParsePolicy(buf.str());
  if (!p.ok()) return InvalidArgumentError(path + ": " + std::string(p.status().message()));
  p->path = path;
  return p;
}

}  // namespace certvault::kmpolicy
