// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/provider/keyref.h"

#include <openssl/evp.h>

#include <vector>

#include "src/base/status_macros.h"

namespace certvault::provider {
namespace {

Status KeyRefError(std::string_view what) {
  return Status(StatusCode::kInvalidArgument, Reason::kDataInvalid, "corrupt key-reference file: " + std::string(what));
}

// NextLine: the line at *pos without its "\n" or "\r\n"; advances *pos.
std::string_view NextLine(std::string_view text, size_t* pos) {
  size_t end = text.find('\n', *pos);
  if (end == std::string_view::npos) end = text.size();
  std::string_view line = text.substr(*pos, end - *pos);
  *pos = end < text.size() ? end + 1 : end;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

Result<std::string> DecodeBase64(std::string_view b64) {
  if (b64.empty() || b64.size() % 4 != 0) return KeyRefError("bad base64 length");
  size_t pad = b64.find('=');
  if (pad != std::string_view::npos &&
      (pad < b64.size() - 2 || b64.substr(pad).find_first_not_of('=') != std::string_view::npos)) {
    return KeyRefError("bad base64 padding");
  }
  std::vector<unsigned char> out(b64.size() / 4 * 3);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0) return KeyRefError("bad base64");
  size_t len = static_cast<size_t>(n) - (pad == std::string_view::npos ? 0 : b64.size() - pad);
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

std::string EncodeBase64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace

bool HasKeyRefBlock(std::string_view text) {
  size_t at = text.find(kKeyRefBegin);
  return at != std::string_view::npos && (at == 0 || text[at - 1] == '\n');
}

Result<KeyRef> ParseKeyRef(std::string_view text) {
  if (text.size() > kMaxKeyRefSize) return KeyRefError("larger than 16 KiB");
  if (!HasKeyRefBlock(text)) return KeyRefError("no BEGIN CERTVAULT KEY line");
  size_t pos = text.find(kKeyRefBegin);
  if (NextLine(text, &pos) != kKeyRefBegin) return KeyRefError("text after the BEGIN line");
  KeyRef ref;
  std::string b64;
  for (;;) {
    if (pos >= text.size()) return KeyRefError("no END CERTVAULT KEY line");
    std::string_view line = NextLine(text, &pos);
    if (line == kKeyRefEnd) break;
    for (char c : line) {
      if (!IsBase64Char(c)) return KeyRefError("bad character in the body");
    }
    b64 += line;
  }
  CV_ASSIGN_OR_RETURN(ref.uri, DecodeBase64(b64));
  Result<Pkcs11Uri> uri = ParseUriWithScheme(ref.uri, kVaultScheme);
  if (!uri.ok()) return KeyRefError("the URI inside is invalid: " + std::string(uri.status().message()));
  if (uri->pin_value) return KeyRefError("a key reference must not hold a PIN");
  return ref;
}

std::string FormatKeyRef(const KeyRef& ref) {
  std::string b64 = EncodeBase64(ref.uri);
  std::string out = std::string(kKeyRefBegin) + "\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + std::string(kKeyRefEnd) + "\n";
}

Result<Pkcs11Uri> ParseKeyUri(std::string_view text, bool claim_pkcs11) {
  Result<Pkcs11Uri> uri = ParseUriWithScheme(text, kVaultScheme);
  if (!uri.ok() && claim_pkcs11) uri = ParseUriWithScheme(text, kPkcs11Scheme);
  if (!uri.ok()) return uri.status();
  if (uri->library_manufacturer || uri->library_description || uri->library_version || uri->slot_description ||
      uri->slot_manufacturer || uri->slot_id || uri->module_name || uri->module_path) {
    return Status(StatusCode::kInvalidArgument, Reason::kArgumentsBad,
                  "library, slot and module attributes are not supported in provider URIs");
  }
  return uri;
}

}  // namespace certvault::provider
