// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/model/pkcs11_uri.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>

#include "src/base/status_macros.h"

namespace certvault {
namespace {

// RFC 3986 §2.3: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// RFC 7512 §2.3: pk11-path-res-avail and pk11-query-res-avail.
constexpr std::string_view kPathReserved = ":[]@!$'()*+,=&";
constexpr std::string_view kQueryReserved = ":[]@!$'()*+,=/?|;";
// What the printer leaves unencoded: a conservative subset of both.
constexpr std::string_view kPrintKeep = ":[]@!$'()*+,";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status UriError(std::string_view what) {
  return Status(StatusCode::kInvalidArgument, Reason::kArgumentsBad, std::string("malformed pkcs11: URI: ") + std::string(what));
}

// PercentDecode: decodes `in` into `out`; `allowed` are the literal
// characters permitted besides unreserved ones.
bool PercentDecode(std::string_view in, std::string_view allowed, SecureVector* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;  // truncated escape
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<uint8_t>(hi * 16 + lo));
      i += 2;
    } else if (IsUnreserved(c) || allowed.find(c) != std::string_view::npos) {
      out->push_back(static_cast<uint8_t>(c));
    } else {
      return false;
    }
  }
  return true;
}

Status SetText(std::string_view name, const SecureVector& value, std::optional<std::string>* field) {
  if (field->has_value()) return UriError(std::string("duplicate attribute '") + std::string(name) + "'");
  if (std::find(value.begin(), value.end(), uint8_t{0}) != value.end()) {
    return UriError(std::string("NUL in attribute '") + std::string(name) + "'");
  }
  *field = std::string(value.begin(), value.end());
  return OkStatus();
}

Status SetSlotId(const SecureVector& value, Pkcs11Uri* uri) {
  if (uri->slot_id.has_value()) return UriError("duplicate attribute 'slot-id'");
  const char* begin = reinterpret_cast<const char*>(value.data());
  uint64_t id = 0;
  auto [end, ec] = std::from_chars(begin, begin + value.size(), id);
  if (value.empty() || ec != std::errc() || end != begin + value.size()) return UriError("slot-id must be a decimal number");
  uri->slot_id = id;
  return OkStatus();
}

Status SetType(const SecureVector& value, Pkcs11Uri* uri) {
  if (uri->type.has_value()) return UriError("duplicate attribute 'type'");
  auto cls = ParseObjectClassName(std::string_view(reinterpret_cast<const char*>(value.data()), value.size()));
  if (!cls.has_value()) return UriError("type must be private, public, cert, secret-key or data");
  uri->type = *cls;
  return OkStatus();
}

Status SetPathAttribute(std::string_view name, const SecureVector& value, Pkcs11Uri* uri) {
  if (name == "token") return SetText(name, value, &uri->token);
  if (name == "manufacturer") return SetText(name, value, &uri->manufacturer);
  if (name == "serial") return SetText(name, value, &uri->serial);
  if (name == "model") return SetText(name, value, &uri->model);
  if (name == "object") return SetText(name, value, &uri->object);
  if (name == "library-manufacturer") return SetText(name, value, &uri->library_manufacturer);
  if (name == "library-description") return SetText(name, value, &uri->library_description);
  if (name == "library-version") return SetText(name, value, &uri->library_version);
  if (name == "slot-description") return SetText(name, value, &uri->slot_description);
  if (name == "slot-manufacturer") return SetText(name, value, &uri->slot_manufacturer);
  if (name == "slot-id") return SetSlotId(value, uri);
  if (name == "type") return SetType(value, uri);
  if (name == "id") {
    if (uri->id.has_value()) return UriError("duplicate attribute 'id'");
    uri->id = Bytes(value.begin(), value.end());
    return OkStatus();
  }
  if (name.starts_with("x-")) return OkStatus();  // vendor attribute: ignored
  return UriError(std::string("unknown path attribute '") + std::string(name) + "'");
}

Status SetQueryAttribute(std::string_view name, SecureVector value, Pkcs11Uri* uri) {
  if (name == "pin-value") {
    if (uri->pin_value.has_value()) return UriError("duplicate attribute 'pin-value'");
    uri->pin_value = SecretBytes(std::move(value));
    return OkStatus();
  }
  if (name == "pin-source") return SetText(name, value, &uri->pin_source);
  if (name == "module-name") return SetText(name, value, &uri->module_name);
  if (name == "module-path") return SetText(name, value, &uri->module_path);
  if (name.starts_with("x-")) return OkStatus();
  return UriError(std::string("unknown query attribute '") + std::string(name) + "'");
}

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

// ParseSection: "a=1;b=2" (separator ';') or "a=1&b=2" (separator '&').
Status ParseSection(std::string_view section, char sep, bool query, Pkcs11Uri* uri) {
  if (section.empty()) return OkStatus();
  std::string_view allowed = query ? kQueryReserved : kPathReserved;
  size_t start = 0;
  while (start <= section.size()) {
    size_t end = section.find(sep, start);
    if (end == std::string_view::npos) end = section.size();
    std::string_view attr = section.substr(start, end - start);
    size_t eq = attr.find('=');
    if (eq == std::string_view::npos || !ValidName(attr.substr(0, eq))) return UriError("attribute without a name");
    std::string_view name = attr.substr(0, eq);
    SecureVector value;
    if (!PercentDecode(attr.substr(eq + 1), allowed, &value)) {
      return UriError(std::string("bad character or escape in '") + std::string(name) + "'");
    }
    CV_RETURN_IF_ERROR(query ? SetQueryAttribute(name, std::move(value), uri) : SetPathAttribute(name, value, uri));
    start = end + 1;
  }
  return OkStatus();
}

// HasSchemePrefix: `text` starts with `scheme` ':' (scheme compared case-insensitively, RFC 3986 §3.1).
bool HasSchemePrefix(std::string_view text, std::string_view scheme) {
  if (text.size() <= scheme.size() || text[scheme.size()] != ':') return false;
  for (size_t i = 0; i < scheme.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != scheme[i]) return false;
  }
  return true;
}

constexpr char kHexDigits[] = "0123456789ABCDEF";

// EncodeAll: ids are binary, so every byte is printed as %XX (as p11-kit does).
std::string EncodeAll(std::span<const uint8_t> data) {
  std::string out;
  for (uint8_t b : data) {
    out += '%';
    out += kHexDigits[b >> 4];
    out += kHexDigits[b & 0x0f];
  }
  return out;
}

void Append(std::string* out, bool* first, char sep, std::string_view name, const std::optional<std::string>& v) {
  if (!v.has_value()) return;
  if (!*first) *out += sep;
  *first = false;
  *out += name;
  *out += '=';
  *out += PercentEncode(AsSpan(*v), kPrintKeep);
}

}  // namespace

std::string_view ObjectClassName(ObjectClass cls) {
  switch (cls) {
    case CKO_PRIVATE_KEY: return "private";
    case CKO_PUBLIC_KEY: return "public";
    case CKO_CERTIFICATE: return "cert";
    case CKO_SECRET_KEY: return "secret-key";
    case CKO_DATA: return "data";
    default: return "";
  }
}

std::optional<ObjectClass> ParseObjectClassName(std::string_view name) {
  for (ObjectClass cls : {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, CKO_CERTIFICATE, CKO_SECRET_KEY, CKO_DATA}) {
    if (ObjectClassName(cls) == name) return cls;
  }
  return std::nullopt;
}

std::string PercentEncode(std::span<const uint8_t> data, std::string_view keep) {
  std::string out;
  for (uint8_t b : data) {
    char c = static_cast<char>(b);
    if (IsUnreserved(c) || (c != '\0' && keep.find(c) != std::string_view::npos)) {
      out += c;
    } else {
      out += EncodeAll(std::span<const uint8_t>(&b, 1));
    }
  }
  return out;
}

Result<Pkcs11Uri> ParsePkcs11Uri(std::string_view text) { return ParseUriWithScheme(text, kPkcs11Scheme); }

Result<Pkcs11Uri> ParseUriWithScheme(std::string_view text, std::string_view scheme) {
  if (text.size() > kMaxUriLength) return UriError("longer than 4096 bytes");
  if (!HasSchemePrefix(text, scheme)) return UriError("must start with '" + std::string(scheme) + ":'");
  std::string_view rest = text.substr(scheme.size() + 1);
  size_t q = rest.find('?');
  Pkcs11Uri uri;
  CV_RETURN_IF_ERROR(ParseSection(rest.substr(0, q), ';', /*query=*/false, &uri));
  if (q != std::string_view::npos) {
    CV_RETURN_IF_ERROR(ParseSection(rest.substr(q + 1), '&', /*query=*/true, &uri));
  }
  // RFC 7512 §2.4: "pin-source" and "pin-value" MUST NOT both be present.
  if (uri.pin_value.has_value() && uri.pin_source.has_value()) return UriError("both pin-value and pin-source");
  return uri;
}

std::string FormatPkcs11Uri(const Pkcs11Uri& uri) { return FormatUriWithScheme(uri, kPkcs11Scheme); }

std::string FormatUriWithScheme(const Pkcs11Uri& uri, std::string_view scheme) {
  std::string out = std::string(scheme) + ":";
  bool first = true;
  Append(&out, &first, ';', "token", uri.token);
  Append(&out, &first, ';', "manufacturer", uri.manufacturer);
  Append(&out, &first, ';', "serial", uri.serial);
  Append(&out, &first, ';', "model", uri.model);
  Append(&out, &first, ';', "object", uri.object);
  if (uri.type.has_value()) Append(&out, &first, ';', "type", std::string(ObjectClassName(*uri.type)));
  if (uri.id.has_value()) {
    out += first ? "" : ";";
    first = false;
    out += "id=" + EncodeAll(*uri.id);
  }
  Append(&out, &first, ';', "library-manufacturer", uri.library_manufacturer);
  Append(&out, &first, ';', "library-description", uri.library_description);
  Append(&out, &first, ';', "library-version", uri.library_version);
  Append(&out, &first, ';', "slot-description", uri.slot_description);
  Append(&out, &first, ';', "slot-manufacturer", uri.slot_manufacturer);
  if (uri.slot_id.has_value()) Append(&out, &first, ';', "slot-id", std::to_string(*uri.slot_id));
  bool qfirst = true;
  std::string query;
  Append(&query, &qfirst, '&', "pin-source", uri.pin_source);
  Append(&query, &qfirst, '&', "module-name", uri.module_name);
  Append(&query, &qfirst, '&', "module-path", uri.module_path);
  if (!query.empty()) out += "?" + query;
  return out;
}

}  // namespace certvault
