// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/provider/sigalg.h"

#include <openssl/params.h>

#include <charconv>
#include <cstring>

namespace certvault::provider {
namespace {

struct DigestRow {
  const char* name;
  MechanismType hash;
  uint64_t mgf;
  size_t size;
  // DER prefix of DigestInfo up to the digest bytes (RFC 8017 §9.2 note 1).
  const char* prefix;
  size_t prefix_len;
};

#define CV_P(s) s, sizeof(s) - 1
const DigestRow kDigests[] = {
    {"SHA1", CKM_SHA_1, CKG_MGF1_SHA1, 20, CV_P("\x30\x21\x30\x09\x06\x05\x2b\x0e\x03\x02\x1a\x05\x00\x04\x14")},
    {"SHA224", CKM_SHA224, CKG_MGF1_SHA224, 28,
     CV_P("\x30\x2d\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x04\x05\x00\x04\x1c")},
    {"SHA256", CKM_SHA256, CKG_MGF1_SHA256, 32,
     CV_P("\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20")},
    {"SHA384", CKM_SHA384, CKG_MGF1_SHA384, 48,
     CV_P("\x30\x41\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x02\x05\x00\x04\x30")},
    {"SHA512", CKM_SHA512, CKG_MGF1_SHA512, 64,
     CV_P("\x30\x51\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x03\x05\x00\x04\x40")},
    {"SHA3-224", CKM_SHA3_224, 0, 28,
     CV_P("\x30\x2d\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x07\x05\x00\x04\x1c")},
    {"SHA3-256", CKM_SHA3_256, 0, 32,
     CV_P("\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x08\x05\x00\x04\x20")},
    {"SHA3-384", CKM_SHA3_384, 0, 48,
     CV_P("\x30\x41\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x09\x05\x00\x04\x30")},
    {"SHA3-512", CKM_SHA3_512, 0, 64,
     CV_P("\x30\x51\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x0a\x05\x00\x04\x40")},
};
#undef CV_P

const DigestRow* RowFor(const EVP_MD* md) {
  if (md == nullptr) return nullptr;
  for (const DigestRow& row : kDigests) {
    if (EVP_MD_is_a(md, row.name)) return &row;
  }
  return nullptr;
}

Result<int> ParseIntOrName(const OSSL_PARAM& p, std::initializer_list<std::pair<const char*, int>> names,
                           std::string_view what) {
  if (p.data_type == OSSL_PARAM_INTEGER || p.data_type == OSSL_PARAM_UNSIGNED_INTEGER) {
    int v = 0;
    if (!OSSL_PARAM_get_int(&p, &v)) return InvalidArgumentError(std::string("bad ") + std::string(what));
    return v;
  }
  if (p.data_type != OSSL_PARAM_UTF8_STRING || p.data == nullptr) {
    return InvalidArgumentError(std::string("bad ") + std::string(what));
  }
  std::string_view s(static_cast<const char*>(p.data), strnlen(static_cast<const char*>(p.data), p.data_size));
  for (const auto& [name, value] : names) {
    if (s == name) return value;
  }
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return InvalidArgumentError(std::string("unknown ") + std::string(what));
  }
  return v;
}

}  // namespace

Result<DigestCodes> CodesForDigest(const EVP_MD* md) {
  const DigestRow* row = RowFor(md);
  if (row == nullptr) return Status(Reason::kMechanismInvalid, "digest not supported for vault keys");
  return DigestCodes{row->hash, row->mgf, row->size};
}

const char* DigestNameBySize(size_t size) {
  for (const DigestRow& row : kDigests) {
    if (row.size == size && row.mgf != 0) return row.name;
  }
  return nullptr;
}

Result<Bytes> DigestInfo(const EVP_MD* md, std::span<const uint8_t> digest) {
  const DigestRow* row = RowFor(md);
  if (row == nullptr) return Status(Reason::kMechanismInvalid, "digest not supported for PKCS#1 v1.5");
  if (digest.size() != row->size) return Status(Reason::kDataLenRange, "input is not a digest of the set size");
  Bytes out(row->prefix, row->prefix + row->prefix_len);
  out.insert(out.end(), digest.begin(), digest.end());
  return out;
}

Result<int> ParseSaltLen(const OSSL_PARAM& p) {
  return ParseIntOrName(p, {{"digest", kSaltDigest}, {"auto", kSaltAuto}, {"max", kSaltMax}}, "saltlen");
}

Result<size_t> EffectiveSaltLen(int saltlen, size_t hlen, int mod_bits) {
  // RFC 8017 §9.1.1: emLen = ceil((modBits - 1) / 8); emLen >= hLen + sLen + 2.
  size_t em_len = (static_cast<size_t>(mod_bits) - 1 + 7) / 8;
  if (mod_bits < 2 || em_len < hlen + 2) return Status(Reason::kKeySizeRange, "RSA key too small for PSS");
  size_t max = em_len - hlen - 2;
  if (saltlen == kSaltDigest) return hlen <= max ? hlen : max;
  if (saltlen == kSaltAuto || saltlen == kSaltMax) return max;
  if (saltlen < 0 || static_cast<size_t>(saltlen) > max) {
    return Status(Reason::kMechanismParamInvalid, "PSS salt length out of range");
  }
  return static_cast<size_t>(saltlen);
}

Result<int> ParsePadMode(const OSSL_PARAM& p) {
  return ParseIntOrName(p, {{"pkcs1", kPadPkcs1}, {"pss", kPadPss}, {"oaep", kPadOaep}, {"none", kPadNone}},
                        "pad-mode");
}

}  // namespace certvault::provider
