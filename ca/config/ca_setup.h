// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The guided set-up (`certvault-ca init` with flags, like `step ca init`):
// a commented ca.toml rendered from a few choices plus the shipped starting
// profiles (packaging/ca-profiles/*.toml, embedded in the program at build
// time and installed to share/certvault/ca-profiles/). See docs/design/ca.md,
// "Guided set-up".
#ifndef CERTVAULT_CA_CONFIG_CA_SETUP_H_
#define CERTVAULT_CA_CONFIG_CA_SETUP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "src/base/result.h"

namespace certvault::ca {

// SetupOptions: what `init` was told. Empty strings take the defaults shown.
struct SetupOptions {
  std::string name;                        // required: [ca] name, 1..32 of [A-Za-z0-9._-]
  std::string root_subject;                // default "/CN=<name> Root CA"
  std::string issuing_subject;             // default "/CN=<name> Issuing CA"
  std::string key_algorithm;               // default ec-p256
  std::string signature_algorithm;         // default "" (the key's)
  std::string token_module;                // required
  std::string token_label;                 // required
  std::string pin_file;                    // as written to ca.toml (relative to the instance or absolute)
  std::string pin_env;                     // or this; exactly one of the two
  std::string database;                    // default "sqlite:ca.db"; or postgresql:// / postgres://
  std::string url;                         // "http://HOST[:PORT]" of `ocsp serve`: crl_url and ocsp_url
  std::vector<std::string> permitted_dns;  // the issuing CA's permitted dNSName subtrees
  uint32_t crl_partitions = 1;             // >1: partitioned CRLs (1..1024)
  bool external_root = false;              // no root key: root_subject is left empty
};

// ProfileText: one starting profile, a TOML fragment with its own
// [profiles.NAME] header and comments.
struct ProfileText {
  std::string name;
  std::string text;
};

// ShippedProfiles: device, server and ocsp, as embedded at build time.
const std::vector<ProfileText>& ShippedProfiles();
// ReadProfileDir: every DIR/NAME.toml (sorted by name) instead of the
// embedded set. kNotFound for a missing or empty directory.
Result<std::vector<ProfileText>> ReadProfileDir(const std::string& dir);

// RenderConfig: the commented ca.toml for `opts` and `profiles`, already
// parsed and validated as LoadConfig would in `dir`. kInvalidArgument with
// a message naming the flag for a bad or missing choice.
Result<std::string> RenderConfig(const SetupOptions& opts, const std::vector<ProfileText>& profiles,
                                 const std::string& dir);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_CONFIG_CA_SETUP_H_
