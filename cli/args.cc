// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "cli/args.h"

#include <cstring>

#include "src/base/ct.h"
#include "src/base/status_macros.h"

namespace certvault::cli {
namespace {

const OptionSpec* FindSpec(std::string_view name, const std::vector<OptionSpec>* verb_specs) {
  for (const OptionSpec& spec : GlobalOptions()) {
    if (spec.name == name) return &spec;
  }
  if (verb_specs == nullptr) return nullptr;
  for (const OptionSpec& spec : *verb_specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

Status UsageError(std::string message) {
  return Status(StatusCode::kInvalidArgument, Reason::kArgumentsBad, message);
}

}  // namespace

const std::vector<OptionSpec>& GlobalOptions() {
  static const std::vector<OptionSpec> kGlobal = {
      {"vault"}, {"json", false}, {"pin"}, {"pin-file"}, {"so-pin"}, {"so-pin-file"}, {"help", false},
      {"allow-weak-pin", false},
  };
  return kGlobal;
}

Status Args::AddOption(const OptionSpec& spec, char* value) {
  std::vector<char*>& slot = values_[std::string(spec.name)];
  if (!slot.empty() && !spec.repeatable) return UsageError("option --" + std::string(spec.name) + " given twice");
  slot.push_back(value);
  return OkStatus();
}

Result<Args> Args::Parse(int argc, char** argv, SpecLookup specs_for_verb) {
  Args args;
  const std::vector<OptionSpec>* specs = nullptr;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view word = argv[i];
    if (options_done || !word.starts_with("--") || word == "-") {
      if (args.verb_.empty() && !options_done) {
        args.verb_ = std::string(word);
        specs = specs_for_verb(word);
      } else {
        args.positional_.emplace_back(word);
      }
      continue;
    }
    if (word == "--") {
      options_done = true;
      continue;
    }
    std::string_view body = word.substr(2);
    size_t eq = body.find('=');
    std::string_view name = body.substr(0, eq);
    const OptionSpec* spec = FindSpec(name, specs);
    if (spec == nullptr) return UsageError("unknown option --" + std::string(name) + "; see `certvault help`");
    char* value = nullptr;
    if (spec->takes_value) {
      if (eq != std::string_view::npos) {
        value = argv[i] + 2 + eq + 1;
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return UsageError("option --" + std::string(name) + " needs a value");
      }
    } else if (eq != std::string_view::npos) {
      return UsageError("option --" + std::string(name) + " takes no value");
    }
    CV_RETURN_IF_ERROR(args.AddOption(*spec, value));
  }
  return args;
}

std::optional<std::string> Args::Get(std::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end() || it->second.empty() || it->second.back() == nullptr) return std::nullopt;
  return std::string(it->second.back());
}

std::vector<std::string> Args::GetAll(std::string_view name) const {
  std::vector<std::string> out;
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return out;
  for (const char* v : it->second) {
    if (v != nullptr) out.emplace_back(v);
  }
  return out;
}

std::optional<SecretBytes> Args::TakeSecret(std::string_view name) {
  auto it = values_.find(std::string(name));
  if (it == values_.end() || it->second.empty() || it->second.back() == nullptr) return std::nullopt;
  char* raw = it->second.back();
  size_t len = std::strlen(raw);
  SecretBytes secret(std::string_view(raw, len), SecretAccess::Get());
  Wipe(raw, len);
  std::memset(raw, 'x', len);  // keep argv well-formed for `ps` after wiping
  it->second.back() = nullptr;
  return secret;
}

}  // namespace certvault::cli
