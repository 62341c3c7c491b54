// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Typed, range-checked reads from a cpptoml table. A missing key leaves the
// default in place; a key of the wrong type or out of range is an error that
// names the key.
#ifndef CERTVAULT_CA_CONFIG_TOML_UTIL_H_
#define CERTVAULT_CA_CONFIG_TOML_UTIL_H_

#include <cpptoml.h>

#include <memory>
#include <string>
#include <vector>

#include "ca/profile/profile.h"
#include "src/base/status.h"

namespace certvault::ca {

// ParseToml: the document `text`; a syntax error is kInvalidArgument
// prefixed with `file` (e.g. "ca.toml: ...").
Result<std::shared_ptr<cpptoml::table>> ParseToml(const std::string& text, const std::string& file);

Status GetString(const cpptoml::table& t, const std::string& key, std::string& out);
Status GetBool(const cpptoml::table& t, const std::string& key, bool& out);
Status GetUint(const cpptoml::table& t, const std::string& key, uint32_t min, uint32_t max, uint32_t& out);
Status GetStrings(const cpptoml::table& t, const std::string& key, std::vector<std::string>& out);
// LoadProfile: one [profiles.NAME] table, validated with ValidateProfile.
Result<Profile> LoadProfile(const std::string& name, const cpptoml::table& t);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_CONFIG_TOML_UTIL_H_
