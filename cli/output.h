// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Output helpers of the CLI: exit codes, JSON text, and files that are either
// completely written or not at all.
#ifndef CERTVAULT_CLI_OUTPUT_H_
#define CERTVAULT_CLI_OUTPUT_H_

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/base/status.h"

namespace certvault::cli {

// Exit codes (docs/cli.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,
  kExitNotFound = 2,
  kExitAuth = 3,
  kExitVault = 4,
  kExitPolicy = 5,
};

// ExitCodeFor: usage for bad arguments, not-found for missing tokens/objects,
// auth for PIN problems, policy for refusals, vault/IO for everything else.
int ExitCodeFor(const Status& status);

// JsonString: `s` as a JSON string literal (quotes, escapes, \u00XX for
// control characters; bytes ≥ 0x80 are passed through as UTF-8).
std::string JsonString(std::string_view s);

// JsonObject: builds one flat JSON object, fields in insertion order.
class JsonObject {
 public:
  JsonObject& Add(std::string_view key, std::string_view value);
  JsonObject& AddRaw(std::string_view key, std::string_view json);  // value already JSON
  JsonObject& AddInt(std::string_view key, uint64_t value);
  JsonObject& AddBool(std::string_view key, bool value);
  std::string Build() const;

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// JsonArray: "[a,b,...]" of already-built JSON values.
std::string JsonArray(const std::vector<std::string>& items);

// WriteFileAtomic: writes to "<path>.tmp.XXXXXX" beside `path`, fsyncs and
// renames it over `path`; on any failure the temporary file is removed and
// `path` is untouched. `mode` applies to a new file (0644 by default).
Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> data, unsigned mode = 0644);

// ReadFile: the whole file, up to `max_size` bytes (kOutOfRange beyond).
Result<Bytes> ReadFile(const std::string& path, size_t max_size = 16u << 20);
// ReadSecretFile: as ReadFile into wiped memory (PIN files, PKCS#12 files).
Result<SecretBytes> ReadSecretFile(const std::string& path, size_t max_size = 16u << 20);

// TrimRight: drops trailing spaces/newlines (padded PKCS#11 labels, PIN files).
std::string_view TrimRight(std::string_view s);

}  // namespace certvault::cli

#endif  // CERTVAULT_CLI_OUTPUT_H_
