// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// RFC 7512 PKCS #11 URIs: parser and printer.
//
//   pkcs11:token=My%20Token;object=web;type=private;id=%01%02?pin-source=file:/p
//
// The parser is strict: the "pkcs11:" scheme (case-insensitive), path
// attributes separated by ';', query attributes by '&', every value
// percent-decoded, only the characters RFC 7512 §2.3 allows, no duplicate
// attribute, no NUL in text attributes, at most kMaxUriLength bytes. Vendor
// attributes ("x-...") are accepted and ignored (RFC 7512 §2.3: "vendor-
// specific attributes"); any other unknown attribute is an error, so that a
// typo never widens a match.
#ifndef CERTVAULT_MODEL_PKCS11_URI_H_
#define CERTVAULT_MODEL_PKCS11_URI_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/model/types.h"

namespace certvault {

inline constexpr size_t kMaxUriLength = 4096;
inline constexpr std::string_view kPkcs11Scheme = "pkcs11";
// kVaultScheme: "certvault:" URIs (the OpenSSL provider's STORE scheme) use the
// RFC 7512 attribute syntax under another scheme name (docs/design/provider.md).
inline constexpr std::string_view kVaultScheme = "certvault";

// Pkcs11Uri: the attributes of one URI; an absent attribute matches anything.
// Move-only (it may carry a pin-value).
struct Pkcs11Uri {
  // Path: token (CK_TOKEN_INFO) attributes.
  std::optional<std::string> token;         // label
  std::optional<std::string> manufacturer;
  std::optional<std::string> serial;
  std::optional<std::string> model;
  // Path: object attributes.
  std::optional<std::string> object;  // CKA_LABEL
  std::optional<Bytes> id;            // CKA_ID
  std::optional<ObjectClass> type;    // CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, CKO_CERTIFICATE, CKO_SECRET_KEY, CKO_DATA
  // Path: library and slot attributes (parsed, matched by nobody yet).
  std::optional<std::string> library_manufacturer;
  std::optional<std::string> library_description;
  std::optional<std::string> library_version;
  std::optional<std::string> slot_description;
  std::optional<std::string> slot_manufacturer;
  std::optional<uint64_t> slot_id;
  // Query.
  std::optional<SecretBytes> pin_value;
  std::optional<std::string> pin_source;
  std::optional<std::string> module_name;
  std::optional<std::string> module_path;
};

// ParsePkcs11Uri: kInvalidArgument (Reason::kArgumentsBad) with a message that
// names the offending attribute (never its value, which may be a PIN).
Result<Pkcs11Uri> ParsePkcs11Uri(std::string_view text);
// ParseUriWithScheme: the same grammar after `scheme` ':' (lower-case `scheme`,
// matched case-insensitively), e.g. kVaultScheme.
Result<Pkcs11Uri> ParseUriWithScheme(std::string_view text, std::string_view scheme);

// FormatPkcs11Uri: the canonical text: path attributes in the order token,
// manufacturer, serial, model, object, type, id (id fully percent-encoded),
// then library/slot ones; query pin-source, module-name, module-path. The
// pin-value is never printed.
std::string FormatPkcs11Uri(const Pkcs11Uri& uri);
// FormatUriWithScheme: FormatPkcs11Uri with `scheme` instead of "pkcs11".
std::string FormatUriWithScheme(const Pkcs11Uri& uri, std::string_view scheme);

// ObjectClassName / ParseObjectClassName: "private", "public", "cert",
// "secret-key", "data" (RFC 7512 §2.3 "type").
std::string_view ObjectClassName(ObjectClass cls);
std::optional<ObjectClass> ParseObjectClassName(std::string_view name);

// PercentEncode: every byte outside `unreserved` and `keep` becomes %XX.
std::string PercentEncode(std::span<const uint8_t> data, std::string_view keep);

}  // namespace certvault

#endif  // CERTVAULT_MODEL_PKCS11_URI_H_
