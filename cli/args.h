// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Args: the command line of one certvault invocation: a verb, positional
// arguments and --options. Options take their value as "--name value" or
// "--name=value"; each verb declares its options (OptionSpec), and the global
// ones (--vault, --json, --pin, --pin-file, --so-pin, --so-pin-file) are
// accepted by every verb. Unknown options, missing values and repeated
// single-valued options are usage errors (kInvalidArgument).
#ifndef CERTVAULT_CLI_ARGS_H_
#define CERTVAULT_CLI_ARGS_H_

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/result.h"
#include "src/base/secret_bytes.h"

namespace certvault::cli {

struct OptionSpec {
  std::string_view name;  // without "--"
  bool takes_value = true;
  bool repeatable = false;
};

class Args {
 public:
  // Parse: argv[0] is the program; the first non-option word is the verb.
  // `specs_for_verb` returns the verb's options (nullptr: unknown verb, which
  // Parse leaves for the caller to report). Option values point into argv,
  // which must outlive the Args.
  using SpecLookup = const std::vector<OptionSpec>* (*)(std::string_view verb);
  static Result<Args> Parse(int argc, char** argv, SpecLookup specs_for_verb);

  const std::string& verb() const { return verb_; }
  const std::vector<std::string>& positional() const { return positional_; }
  bool Has(std::string_view name) const { return values_.count(std::string(name)) != 0; }
  // Get: the (last) value of an option, nullopt if absent.
  std::optional<std::string> Get(std::string_view name) const;
  std::vector<std::string> GetAll(std::string_view name) const;
  // TakeSecret: the option's value as SecretBytes; the argv copy is
  // overwritten so that it no longer shows in /proc/<pid>/cmdline.
  std::optional<SecretBytes> TakeSecret(std::string_view name);

 private:
  Status AddOption(const OptionSpec& spec, char* value);
  std::string verb_;
  std::vector<std::string> positional_;
  std::map<std::string, std::vector<char*>> values_;  // bool options hold nullptr
};

// GlobalOptions: accepted by every verb.
const std::vector<OptionSpec>& GlobalOptions();

}  // namespace certvault::cli

#endif  // CERTVAULT_CLI_ARGS_H_
