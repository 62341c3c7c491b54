// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/config/toml_util.h"

#include <sstream>

#include "src/base/status_macros.h"

namespace certvault::ca {

Result<std::shared_ptr<cpptoml::table>> ParseToml(const std::string& text, const std::string& file) {
  try {
    std::istringstream in(text);
    cpptoml::parser parser(in);
    return parser.parse();
  } catch (const std::exception& e) {
    return InvalidArgumentError(file + ": " + e.what());
  }
}

Status GetString(const cpptoml::table& t, const std::string& key, std::string& out) {
  if (!t.contains(key)) return OkStatus();
  auto v = t.get_as<std::string>(key);
  if (!v) return InvalidArgumentError("ca.toml: " + key + " must be a string");
  out = *v;
  return OkStatus();
}

Status GetBool(const cpptoml::table& t, const std::string& key, bool& out) {
  if (!t.contains(key)) return OkStatus();
  auto v = t.get_as<bool>(key);
  if (!v) return InvalidArgumentError("ca.toml: " + key + " must be true or false");
  out = *v;
  return OkStatus();
}

Status GetUint(const cpptoml::table& t, const std::string& key, uint32_t min, uint32_t max, uint32_t& out) {
  if (!t.contains(key)) return OkStatus();
  auto v = t.get_as<int64_t>(key);
  if (!v || *v < min || *v > max) {
    return InvalidArgumentError("ca.toml: " + key + " must be an integer in " + std::to_string(min) + ".." +
                                std::to_string(max));
  }
  out = static_cast<uint32_t>(*v);
  return OkStatus();
}

Status GetStrings(const cpptoml::table& t, const std::string& key, std::vector<std::string>& out) {
  if (!t.contains(key)) return OkStatus();
  auto arr = t.get_array_of<std::string>(key);
  if (!arr) return InvalidArgumentError("ca.toml: " + key + " must be an array of strings");
  out = *arr;
  return OkStatus();
}

namespace {

Status LoadSubjectFixed(const cpptoml::table& t, Profile& p) {
  auto fixed = t.get_table("subject_fixed");
  if (fixed == nullptr) return OkStatus();
  for (const auto& [field, value] : *fixed) {
    auto s = value->as<std::string>();
    if (!s) return InvalidArgumentError("ca.toml: subject_fixed." + field + " must be a string");
    p.subject_fixed.emplace_back(field, s->get());
  }
  return OkStatus();
}

}  // namespace

Result<Profile> LoadProfile(const std::string& name, const cpptoml::table& t) {
  Profile p;
  p.name = name;
  CV_RETURN_IF_ERROR(GetUint(t, "days", 1, 36500, p.days));
  CV_RETURN_IF_ERROR(GetStrings(t, "key_usage", p.key_usage));
  CV_RETURN_IF_ERROR(GetStrings(t, "extended_key_usage", p.extended_key_usage));
  CV_RETURN_IF_ERROR(GetBool(t, "is_ca", p.is_ca));
  uint32_t path_len = 0;
  if (t.contains("path_len")) {
    CV_RETURN_IF_ERROR(GetUint(t, "path_len", 0, 8, path_len));
    p.path_len = static_cast<int>(path_len);
  }
  CV_RETURN_IF_ERROR(GetStrings(t, "subject_allowed", p.subject_allowed));
  CV_RETURN_IF_ERROR(GetStrings(t, "subject_required", p.subject_required));
  CV_RETURN_IF_ERROR(LoadSubjectFixed(t, p));
  CV_RETURN_IF_ERROR(GetStrings(t, "san_types", p.san_types));
  CV_RETURN_IF_ERROR(GetStrings(t, "san_dns_suffixes", p.san_dns_suffixes));
  uint32_t max_sans = static_cast<uint32_t>(p.max_sans);
  CV_RETURN_IF_ERROR(GetUint(t, "max_sans", 0, 256, max_sans));
  p.max_sans = max_sans;
  CV_RETURN_IF_ERROR(GetBool(t, "require_san", p.require_san));
  CV_RETURN_IF_ERROR(GetBool(t, "allow_wildcards", p.allow_wildcards));
  CV_RETURN_IF_ERROR(GetStrings(t, "key_algorithms", p.key_algorithms));
  CV_RETURN_IF_ERROR(GetStrings(t, "policies", p.policies));
  CV_RETURN_IF_ERROR(GetBool(t, "internal", p.internal));
  CV_RETURN_IF_ERROR(GetBool(t, "require_attestation", p.require_attestation));
  CV_RETURN_IF_ERROR(GetStrings(t, "attestation_roots", p.attestation_roots));
  CV_RETURN_IF_ERROR(ValidateProfile(p));
  return p;
}

}  // namespace certvault::ca
