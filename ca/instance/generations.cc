// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/instance/generations.h"

#include <fstream>
#include <sstream>

#include "ca/instance/ca_instance.h"
#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

constexpr char kFileName[] = "/generations";

Result<uint32_t> ParseNumber(const std::string& text, size_t line) {
  bool digits = !text.empty() && text.size() <= 3 && text.find_first_not_of("0123456789") == std::string::npos;
  uint32_t n = digits ? static_cast<uint32_t>(std::stoul(text)) : 0;
  if (n < 1 || n > kMaxGeneration) {
    return DataLossError("generations line " + std::to_string(line) + ": not a generation number 1.." +
                         std::to_string(kMaxGeneration));
  }
  return n;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

}  // namespace

std::string GenerationSuffix(uint32_t gen) { return gen <= 1 ? "" : "-g" + std::to_string(gen); }

std::string GenerationUrl(const std::string& url, uint32_t gen) {
  if (gen <= 1 || url.empty()) return url;
  if (url.ends_with(".crl")) return url.substr(0, url.size() - 4) + GenerationSuffix(gen) + ".crl";
  return url + GenerationSuffix(gen);
}

Result<KeyGenerations> ParseGenerations(const std::string& text) {
  KeyGenerations gens;
  bool seen_root = false, seen_issuing = false;
  std::istringstream in(text);
  std::string raw;
  for (size_t line = 1; std::getline(in, raw); ++line) {
    std::string s = Trim(raw);
    if (s.empty() || s[0] == '#') continue;
    size_t eq = s.find('=');
    std::string key = eq == std::string::npos ? s : Trim(s.substr(0, eq));
    bool* seen = key == "root" ? &seen_root : key == "issuing" ? &seen_issuing : nullptr;
    if (eq == std::string::npos || seen == nullptr || *seen) {
      return DataLossError("generations line " + std::to_string(line) + ": expected one 'root = N' and one "
                           "'issuing = N'");
    }
    *seen = true;
    CV_ASSIGN_OR_RETURN(uint32_t n, ParseNumber(Trim(s.substr(eq + 1)), line));
    (key == "root" ? gens.root : gens.issuing) = n;
  }
  return gens;
}

Result<KeyGenerations> LoadGenerations(const std::string& dir) {
  std::ifstream in(dir + kFileName);
  if (!in) return KeyGenerations{};
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return DataLossError("cannot read " + dir + kFileName);
  return ParseGenerations(text.str());
}

std::string RenderGenerations(const KeyGenerations& gens) {
  return "# certvault-ca key generations: the current root and issuing keys (written by init and rollover;\n"
         "# older generations are retired: they sign CRLs and OCSP answers for what they issued)\n"
         "root = " + std::to_string(gens.root) + "\nissuing = " + std::to_string(gens.issuing) + "\n";
}

Status SaveGenerations(const std::string& dir, const KeyGenerations& gens) {
  return WriteFile(dir + kFileName, RenderGenerations(gens));
}

}  // namespace certvault::ca
