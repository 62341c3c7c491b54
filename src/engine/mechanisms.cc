// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Mechanisms() and RandomBytes() (engine.h). Key sizes follow the PKCS#11
// conventions: bits for RSA and EC-family keys, bytes for AES and HMAC keys,
// bits for CKM_GENERIC_SECRET_KEY_GEN (v3.0 §2.35.2).
#include "src/base/status_macros.h"
#include "src/crypto/random.h"
#include "src/engine/engine.h"
#include "src/engine/key_build.h"
#include "src/model/pkcs11_constants.h"
#include "src/selftest/selftest.h"

namespace certvault::engine {
namespace {

constexpr uint64_t kSv = CKF_SIGN | CKF_VERIFY;
constexpr uint64_t kEd = CKF_ENCRYPT | CKF_DECRYPT;
constexpr uint64_t kWu = CKF_WRAP | CKF_UNWRAP;
constexpr uint64_t kEcCaps = CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
constexpr uint64_t kRsaMin = kRsaMinBits;
constexpr uint64_t kRsaMax = kRsaMaxBits;

std::vector<MechanismInfo> BuildTable() {
  std::vector<MechanismInfo> t = {
      {CKM_RSA_PKCS_KEY_PAIR_GEN, kRsaMin, kRsaGenMaxBits, CKF_GENERATE_KEY_PAIR},
      {CKM_RSA_PKCS, kRsaMin, kRsaMax, kSv | kEd},
      {CKM_RSA_PKCS_PSS, kRsaMin, kRsaMax, kSv},
      {CKM_RSA_PKCS_OAEP, kRsaMin, kRsaMax, kEd | kWu},
      {CKM_EC_KEY_PAIR_GEN, 256, 521, CKF_GENERATE_KEY_PAIR | kEcCaps},
      {CKM_ECDSA, 256, 521, kSv | kEcCaps},
      {CKM_ECDH1_DERIVE, 255, 521, CKF_DERIVE | kEcCaps},
      {CKM_EC_EDWARDS_KEY_PAIR_GEN, 255, 448, CKF_GENERATE_KEY_PAIR},
      {CKM_EDDSA, 255, 448, kSv},
      {CKM_EC_MONTGOMERY_KEY_PAIR_GEN, 255, 448, CKF_GENERATE_KEY_PAIR},
      {CKM_AES_KEY_GEN, 16, 32, CKF_GENERATE},
      {CKM_AES_GCM, 16, 32, kEd | kWu},
      {CKM_AES_CBC_PAD, 16, 32, kEd},
      {CKM_AES_CBC, 16, 32, kEd},
      {CKM_AES_ECB, 16, 32, kEd},
      {CKM_AES_CTR, 16, 32, kEd},
      {CKM_AES_CMAC, 16, 32, kSv},
      {CKM_RSA_X_509, kRsaMin, kRsaMax, kSv | kEd},
      {CKM_AES_KEY_WRAP_PAD, 16, 32, kWu},
      {CKM_AES_KEY_WRAP_KWP, 16, 32, kWu},
      {CKM_GENERIC_SECRET_KEY_GEN, 8, kGenericSecretMaxBytes * 8, CKF_GENERATE},
  };
  for (MechanismType m : {CKM_SHA1_RSA_PKCS, CKM_SHA224_RSA_PKCS, CKM_SHA256_RSA_PKCS, CKM_SHA384_RSA_PKCS,
                          CKM_SHA512_RSA_PKCS, CKM_SHA224_RSA_PKCS_PSS, CKM_SHA256_RSA_PKCS_PSS,
                          CKM_SHA384_RSA_PKCS_PSS, CKM_SHA512_RSA_PKCS_PSS}) {
    t.push_back({m, kRsaMin, kRsaMax, kSv});
  }
  for (MechanismType m : {CKM_ECDSA_SHA1, CKM_ECDSA_SHA224, CKM_ECDSA_SHA256, CKM_ECDSA_SHA384, CKM_ECDSA_SHA512}) {
    t.push_back({m, 256, 521, kSv | kEcCaps});
  }
  for (MechanismType m : {CKM_SHA_1, CKM_SHA224, CKM_SHA256, CKM_SHA384, CKM_SHA512, CKM_SHA3_224, CKM_SHA3_256,
                          CKM_SHA3_384, CKM_SHA3_512}) {
    t.push_back({m, 0, 0, CKF_DIGEST});
  }
  for (MechanismType m : {CKM_SHA_1_HMAC, CKM_SHA224_HMAC, CKM_SHA256_HMAC, CKM_SHA384_HMAC, CKM_SHA512_HMAC,
                          CKM_SHA3_224_HMAC, CKM_SHA3_256_HMAC, CKM_SHA3_384_HMAC, CKM_SHA3_512_HMAC}) {
    t.push_back({m, 1, kGenericSecretMaxBytes, kSv});
  }
  return t;
}

}  // namespace

const std::vector<MechanismInfo>& Mechanisms() {
  static const std::vector<MechanismInfo> table = BuildTable();
  return table;
}

Status RandomBytes(std::span<uint8_t> out) {
  CV_RETURN_IF_ERROR(selftest::ErrorStateStatus());  // docs/design/selftest.md
  return crypto::RandomBytes(out);
}

}  // namespace certvault::engine
