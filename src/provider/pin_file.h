// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// PIN files (the provider's pin-file setting and pin-source=file: in URIs):
// the first line is the PIN, as for the CLI's --pin-file.
#ifndef CERTVAULT_PROVIDER_PIN_FILE_H_
#define CERTVAULT_PROVIDER_PIN_FILE_H_

#include <sys/stat.h>

#include <span>
#include <string>

#include "src/base/result.h"
#include "src/base/secret_bytes.h"

namespace certvault::provider {

inline constexpr size_t kMaxPinFileSize = 4096;

// ReadPinFile: the first line of `path` (without "\r\n"), read through a
// wiped buffer. kNotFound / kPermissionDenied name the file (never its
// contents); an empty PIN is kInvalidArgument; kFailedPrecondition if the
// file is accessible to its group or others (CheckPinFileMode).
Result<SecretBytes> ReadPinFile(const std::string& path);
// CheckPinFileMode: the mode rule of ReadPinFile: no group or other bits.
Status CheckPinFileMode(const struct stat& st, const std::string& path);
// FirstLine: the first line of a PIN file's contents.
SecretBytes FirstLine(std::span<const uint8_t> contents);

}  // namespace certvault::provider

#endif  // CERTVAULT_PROVIDER_PIN_FILE_H_
