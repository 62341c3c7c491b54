// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Key references and key URIs (docs/formats/keyref.md).
//
// A key-reference file names a vault key for programs that only take a key
// *file* (SSL_CTX_use_PrivateKey_file, nginx, mosquitto). It holds no key
// material and no PIN:
//
//   -----BEGIN CERTVAULT KEY-----
//   Y2VydHZhdWx0OnRva2VuPWRlbW87b2JqZWN0PXdlYjt0eXBlPXByaXZhdGU=
//   -----END CERTVAULT KEY-----
//
// The body is the base64 of a certvault: URI (RFC 7468 textual encoding, no
// headers: OpenSSL's own PEM decoder refuses headers other than Proc-Type and
// would end decoding before the provider's decoder sees the file). Text
// before the BEGIN line is ignored (RFC 7468 §2); the rest is checked strictly.
#ifndef CERTVAULT_PROVIDER_KEYREF_H_
#define CERTVAULT_PROVIDER_KEYREF_H_

#include <string>
#include <string_view>

#include "src/base/result.h"
#include "src/model/pkcs11_uri.h"

namespace certvault::provider {

inline constexpr std::string_view kKeyRefBegin = "-----BEGIN CERTVAULT KEY-----";
inline constexpr std::string_view kKeyRefEnd = "-----END CERTVAULT KEY-----";
inline constexpr size_t kMaxKeyRefSize = 16384;

struct KeyRef {
  std::string uri;  // certvault: URI, parsed and checked
};

// HasKeyRefBlock: `text` contains a BEGIN CERTVAULT KEY line (it is ours).
bool HasKeyRefBlock(std::string_view text);
// ParseKeyRef: kInvalidArgument (Reason::kDataInvalid) naming what is wrong:
// no block, bad base64, bad URI, a PIN inside, oversized.
Result<KeyRef> ParseKeyRef(std::string_view text);
// FormatKeyRef: the file for `ref`; ParseKeyRef(FormatKeyRef(r)) gives r back.
std::string FormatKeyRef(const KeyRef& ref);

// ParseKeyUri: a certvault: URI, or a pkcs11: one when `claim_pkcs11`.
// The URI must not name a library/slot attribute the vault cannot match.
Result<Pkcs11Uri> ParseKeyUri(std::string_view text, bool claim_pkcs11);

}  // namespace certvault::provider

#endif  // CERTVAULT_PROVIDER_KEYREF_H_
