// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Signature helpers with no provider state, unit-tested on their own: the
// PKCS#1 v1.5 DigestInfo (RFC 8017 §9.2 note 1), the PKCS#11 hash and MGF1
// codes for an OpenSSL digest, the RSA-PSS salt length rules of OpenSSL's
// "saltlen" parameter, and parameter parsing.
#ifndef CERTVAULT_PROVIDER_SIGALG_H_
#define CERTVAULT_PROVIDER_SIGALG_H_

#include <openssl/core.h>
#include <openssl/evp.h>

#include <span>
#include <string>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/model/types.h"

namespace certvault::provider {

struct DigestCodes {
  MechanismType hash = 0;  // CKM_SHA256 ...
  uint64_t mgf = 0;        // CKG_MGF1_SHA256 ...
  size_t size = 0;
};

// CodesForDigest: SHA-1, SHA-224/256/384/512 and SHA3-224..512 (hash only:
// PKCS#11 v3.0 has MGF1 codes for SHA3 too). kUnimplemented for others.
Result<DigestCodes> CodesForDigest(const EVP_MD* md);
// DigestBySize: the SHA-2 (or SHA-1) digest of that output size, for raw
// EVP_PKEY_sign without a "digest" parameter. nullptr if none.
const char* DigestNameBySize(size_t size);

// DigestInfo: DER DigestInfo{ AlgorithmIdentifier(md, NULL), digest }.
Result<Bytes> DigestInfo(const EVP_MD* md, std::span<const uint8_t> digest);

// OpenSSL's "saltlen" special values (RSA_PSS_SALTLEN_*).
inline constexpr int kSaltDigest = -1;
inline constexpr int kSaltAuto = -2;
inline constexpr int kSaltMax = -3;
// ParseSaltLen: an int param, or "digest" / "auto" / "max" / a decimal.
Result<int> ParseSaltLen(const OSSL_PARAM& p);
// EffectiveSaltLen: the salt length a signature with `mod_bits`, hash of
// `hlen` bytes and `saltlen` uses (auto = max when signing, RFC 8017 §9.1.1).
Result<size_t> EffectiveSaltLen(int saltlen, size_t hlen, int mod_bits);

// RSA padding modes (RSA_PKCS1_PADDING, RSA_PKCS1_PSS_PADDING).
inline constexpr int kPadPkcs1 = 1;
inline constexpr int kPadNone = 3;
inline constexpr int kPadOaep = 4;
inline constexpr int kPadPss = 6;
// ParsePadMode: an int param, or "pkcs1" / "pss" / "oaep" / "none".
Result<int> ParsePadMode(const OSSL_PARAM& p);

}  // namespace certvault::provider

#endif  // CERTVAULT_PROVIDER_SIGALG_H_
