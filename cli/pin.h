// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// PIN input for the CLI. Sources, first match wins:
//   1. --pin / --so-pin / --new-pin (the argv copy is overwritten);
//   2. --pin-file / --so-pin-file / --new-pin-file (first line of the file, mode 600);
//   3. CERTVAULT_PIN / CERTVAULT_SO_PIN / CERTVAULT_NEW_PIN;
//   4. a prompt on the controlling terminal with echo off (termios).
// PINs live only in SecretBytes; they are never printed or put in messages.
#ifndef CERTVAULT_CLI_PIN_H_
#define CERTVAULT_CLI_PIN_H_

#include <span>
#include <string>
#include <string_view>

#include "cli/args.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"

namespace certvault::cli {

enum class PinKind { kUser, kSo, kNewUser, kNewSo };

// HasPinSource: true if a flag, file or environment variable provides the
// PIN (no prompt needed).
bool HasPinSource(const Args& args, PinKind kind);

// ObtainPin: the PIN from the first available source. A new PIN (kNew*, or
// `confirm` for the PINs of `init`) read from the terminal is asked twice
// (kInvalidArgument if the two differ). Without any
// source and without a terminal: kUnauthenticated/kPinInvalid with a message
// naming the flags to use. Empty PINs are rejected (kPinLenRange).
Result<SecretBytes> ObtainPin(Args& args, PinKind kind, bool confirm = false);

// ReadPinFile: the first line of a PIN file. kFailedPrecondition if others
// may access it, or its group may although this process owns it (chmod 600);
// the rule is the provider's pin-file rule (src/provider/pin_file.h).
Result<SecretBytes> ReadPinFile(const std::string& path);

// PinFromFileContents: the first line of a PIN file (without "\n" or "\r\n").
SecretBytes PinFromFileContents(const SecretBytes& contents);

}  // namespace certvault::cli

#endif  // CERTVAULT_CLI_PIN_H_
