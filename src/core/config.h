// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Config: where the vault is and how it behaves. Read once when a backend
// opens; the file is optional (CERTVAULT_CONF names it).
//
// File format (docs/config.md): INI-style, `#` comments, `key = value`.
//   [vault]
//   kdf_memory_kib = 19456      # Argon2id m (KiB)
//   kdf_iterations = 2          # Argon2id t
//   kdf_parallelism = 1         # Argon2id p
//   pin_max_tries = 10
//   pin_min_length = 6          # user PIN (docs/config.md: the Argon2id cost per guess)
//   so_pin_min_length = 8
//   allow_weak_pin = false      # true: both minimums drop to 4 (tests, numeric-PIN devices)
//   secure_heap_kib = 0         # >0: OpenSSL secure heap for key memory (see docs/config.md)
//   time_source = ntp://HOST[:PORT]   # trusted time (src/base/trusted_clock.h); empty: none
//   max_clock_offset_s = 10     # bound against time_source
//   clock_backward_tolerance_s = 2    # behind the vault's latest trusted time
//   time_check_interval_s = 60  # full clock check at most this often
//   policy = policy.toml        # key-management policy (src/policy/policy.h);
//                               # relative to the config file's directory
//   [token "factory-1"]         # per-token settings, by label
//   mechanisms = CKM_ECDSA, CKM_ECDSA_SHA256, 0x1057   # allow-list
//   [token "*"]                 # defaults for every token
//   mechanisms = ...
//   [daemon]                    # certvaultd (docs/design/daemon.md)
//   socket = /run/certvault/certvaultd.sock
#ifndef CERTVAULT_CORE_CONFIG_H_
#define CERTVAULT_CORE_CONFIG_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "src/base/result.h"
#include "src/model/types.h"
#include "src/policy/policy.h"

namespace certvault::core {

struct KdfConfig {
  uint32_t memory_kib = 19456;  // OWASP minimum for Argon2id: m=19 MiB, t=2, p=1
  uint32_t iterations = 2;
  uint32_t parallelism = 1;
};

struct Config {
  std::string vault_dir;  // resolved, never empty
  KdfConfig kdf;
  uint32_t pin_max_tries = 10;
  // PIN policy, checked whenever a PIN is set (C_InitToken, C_InitPIN,
  // C_SetPIN); never at login, so PINs set under an older policy still work.
  uint32_t pin_min_length = 6;
  uint32_t so_pin_min_length = 8;
  bool allow_weak_pin = false;  // --allow-weak-pin: minimums drop to kWeakPinMinLength
  uint32_t pin_max_length = 256;
  // secure_heap_kib: if non-zero and the process has none yet, the backend
  // initializes OpenSSL's secure heap of this size (rounded up to a power of
  // two): key material then lives in locked memory excluded from core dumps.
  // Off by default in the module because the heap is process-wide.
  uint32_t secure_heap_kib = 0;
  // Trusted time: signing and logins need a clock that is not behind the
  // vault's latest trusted time by more than clock_backward_tolerance_s and,
  // with a time_source, within max_clock_offset_s of it (trusted_clock.h).
  std::string time_source;
  uint32_t max_clock_offset_s = 10;
  uint32_t clock_backward_tolerance_s = 2;
  uint32_t time_check_interval_s = 60;
  // Per-token mechanism allow-lists by token label; "*" applies to tokens
  // without their own entry. Absent = every mechanism the engine offers.
  std::map<std::string, std::set<MechanismType>> mechanism_allow;
  // [daemon] socket: clients use certvaultd at this socket (see
  // src/ipc/open_backend.h); certvaultd listens there. The section's other
  // keys are certvaultd's settings, kept raw for it to validate.
  std::string daemon_socket;
  std::map<std::string, std::string> daemon_settings;
  // policy: the deployment's policy.toml ([vault] policy = PATH), or null.
  // Its [pin] and [algorithms] rules apply on top of the settings above
  // (the stricter wins); CheckAgainstPolicy refuses contradictions.
  std::string policy_path;
  std::shared_ptr<const kmpolicy::Policy> policy;
  // event_log: from BackendOptions::event_log (not a config file key).
  bool event_log = true;

  // MinPinLength: the shortest PIN the settings and the policy accept for
  // the SO or the user.
  uint32_t MinPinLength(bool so) const {
    uint32_t min = so ? so_pin_min_length : pin_min_length;
    if (allow_weak_pin && min > kWeakPinMinLength) min = kWeakPinMinLength;
    if (policy != nullptr && min < policy->pin_min_length) min = policy->pin_min_length;
    return min;
  }
  static constexpr uint32_t kWeakPinMinLength = 4;

  // AllowedMechanisms: the allow-list for a token, or nullopt (no limit).
  std::optional<std::set<MechanismType>> AllowedMechanisms(const std::string& token_label) const;
};

// ResolveVaultDir: `explicit_dir` if set, else $CERTVAULT_HOME, else
// $XDG_DATA_HOME/certvault, else $HOME/.local/share/certvault.
// kFailedPrecondition if none can be determined.
Result<std::string> ResolveVaultDir(const std::string& explicit_dir);

// LoadConfig: resolves the vault dir and parses `config_path` (or
// $CERTVAULT_CONF if empty; no file = defaults). kInvalidArgument with the line
// number on a malformed file.
Result<Config> LoadConfig(const std::string& explicit_vault_dir, const std::string& config_path);

// CheckAgainstPolicy: kFailedPrecondition naming the setting and the policy
// key when `config` contradicts its policy: allow_weak_pin (or
// --allow-weak-pin) below [pin] min_length, pin_max_tries above [pin]
// max_attempts, max_clock_offset_s above [time] max_clock_offset_seconds, no
// time_source under [time] require_time_source. OK without a policy.
Status CheckAgainstPolicy(const Config& config);

// ParseConfig: the file format above (exposed for tests and fuzzing).
Status ParseConfig(std::string_view text, Config* config);

// MechanismFromName: "CKM_ECDSA" or "0x1041"; nullopt if unknown.
std::optional<MechanismType> MechanismFromName(std::string_view name);
// MechanismName: "CKM_ECDSA", or "0x..." for unnamed mechanisms.
std::string MechanismName(MechanismType type);

}  // namespace certvault::core

#endif  // CERTVAULT_CORE_CONFIG_H_
