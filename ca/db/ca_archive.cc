// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/db/ca_archive.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

#include "src/base/byte_reader.h"
#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

constexpr char kMagic[] = "CVCA";
constexpr uint8_t kVersion = 1;
constexpr size_t kDigestSize = 32;

Result<Bytes> Sha256(std::span<const uint8_t> data) {
  Bytes md(kDigestSize);
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &n, EVP_sha256(), nullptr) != 1 || n != kDigestSize) {
    return InternalError("EVP_Digest");
  }
  return md;
}

}  // namespace

bool IsPlainEntryName(const std::string& n) {
  if (n.empty() || n.size() > 255 || n[0] == '.') return false;
  for (char c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

Result<Bytes> EncodeCaArchive(const std::vector<CaArchiveEntry>& entries, uint64_t created_ms) {
  Bytes out(kMagic, kMagic + 4);
  ByteWriter<Bytes> w(&out);
  w.WriteU8(kVersion);
  w.WriteU64(created_ms);
  w.WriteU32(static_cast<uint32_t>(entries.size()));
  for (const CaArchiveEntry& e : entries) {
    if (!IsPlainEntryName(e.name)) return InvalidArgumentError("not a plain file name: " + e.name);
    w.WriteU32LengthPrefixed(AsSpan(e.name));
    w.WriteU32LengthPrefixed(e.data);
  }
  CV_ASSIGN_OR_RETURN(Bytes md, Sha256(out));
  w.WriteBytes(md);
  return out;
}

Result<std::vector<CaArchiveEntry>> DecodeCaArchive(std::span<const uint8_t> in) {
  const Status bad = DataLossError("not a certvault-ca backup, or truncated or damaged");
  if (in.size() < 4 + 1 + 8 + 4 + kDigestSize || !std::equal(in.begin(), in.begin() + 4, kMagic)) return bad;
  CV_ASSIGN_OR_RETURN(Bytes md, Sha256(in.first(in.size() - kDigestSize)));
  if (!std::equal(md.begin(), md.end(), in.end() - kDigestSize)) return bad;
  ByteReader r(in.subspan(4, in.size() - 4 - kDigestSize));
  uint8_t version = 0;
  uint64_t created = 0;
  uint32_t count = 0;
  if (!r.ReadU8(&version) || !r.ReadU64(&created) || !r.ReadU32(&count)) return bad;
  if (version != kVersion) return DataLossError("backup format version " + std::to_string(version) + " is not 1");
  std::vector<CaArchiveEntry> out;
  for (uint32_t i = 0; i < count; ++i) {
    std::span<const uint8_t> name, data;
    if (!r.ReadU32LengthPrefixed(&name) || !r.ReadU32LengthPrefixed(&data)) return bad;
    CaArchiveEntry e{std::string(name.begin(), name.end()), Bytes(data.begin(), data.end())};
    if (!IsPlainEntryName(e.name)) return bad;
    for (const CaArchiveEntry& seen : out) {
      if (seen.name == e.name) return bad;  // a restore would write the file twice
    }
    out.push_back(std::move(e));
  }
  if (!r.empty()) return bad;
  return out;
}

}  // namespace certvault::ca
