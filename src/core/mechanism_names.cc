// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Names of the mechanisms certvault knows, for configuration files and output.
#include <cstdio>
#include <string>
#include <string_view>

#include "src/core/config.h"

namespace certvault::core {
namespace {

struct MechName {
  MechanismType type;
  std::string_view name;
};

// Values from PKCS#11 v3.0 (pkcs11t.h); v3.0-only ones are written out.
constexpr MechName kMechNames[] = {
    {0x0000, "CKM_RSA_PKCS_KEY_PAIR_GEN"}, {0x0001, "CKM_RSA_PKCS"},
    {0x0003, "CKM_RSA_X_509"},
    {0x0009, "CKM_RSA_PKCS_OAEP"},         {0x000D, "CKM_RSA_PKCS_PSS"},
    {0x0040, "CKM_SHA256_RSA_PKCS"},       {0x0041, "CKM_SHA384_RSA_PKCS"},
    {0x0042, "CKM_SHA512_RSA_PKCS"},       {0x0043, "CKM_SHA256_RSA_PKCS_PSS"},
    {0x0044, "CKM_SHA384_RSA_PKCS_PSS"},   {0x0045, "CKM_SHA512_RSA_PKCS_PSS"},
    {0x0046, "CKM_SHA224_RSA_PKCS"},       {0x0047, "CKM_SHA224_RSA_PKCS_PSS"},
    {0x0220, "CKM_SHA_1"},                 {0x0255, "CKM_SHA224"},
    {0x0250, "CKM_SHA256"},                {0x0251, "CKM_SHA256_HMAC"},
    {0x0260, "CKM_SHA384"},                {0x0261, "CKM_SHA384_HMAC"},
    {0x0270, "CKM_SHA512"},                {0x0271, "CKM_SHA512_HMAC"},
    {0x02B0, "CKM_SHA3_256"},              {0x02B5, "CKM_SHA3_224"},
    {0x02C0, "CKM_SHA3_384"},              {0x02D0, "CKM_SHA3_512"},
    {0x0350, "CKM_GENERIC_SECRET_KEY_GEN"}, {0x1040, "CKM_EC_KEY_PAIR_GEN"},
    {0x1041, "CKM_ECDSA"},                 {0x1042, "CKM_ECDSA_SHA1"},
    {0x1043, "CKM_ECDSA_SHA224"},          {0x1044, "CKM_ECDSA_SHA256"},
    {0x1045, "CKM_ECDSA_SHA384"},          {0x1046, "CKM_ECDSA_SHA512"},
    {0x1050, "CKM_ECDH1_DERIVE"},          {0x1055, "CKM_EC_EDWARDS_KEY_PAIR_GEN"},
    {0x1056, "CKM_EC_MONTGOMERY_KEY_PAIR_GEN"}, {0x1057, "CKM_EDDSA"},
    {0x1080, "CKM_AES_KEY_GEN"},           {0x1082, "CKM_AES_CBC"},
    {0x1085, "CKM_AES_CBC_PAD"},           {0x1087, "CKM_AES_GCM"},
    {0x2109, "CKM_AES_KEY_WRAP"},          {0x210A, "CKM_AES_KEY_WRAP_PAD"},
    {0x210B, "CKM_AES_KEY_WRAP_KWP"},      {0x1081, "CKM_AES_ECB"},
    {0x1086, "CKM_AES_CTR"},               {0x108A, "CKM_AES_CMAC"},
};

}  // namespace

std::optional<MechanismType> MechanismFromName(std::string_view name) {
  for (const MechName& m : kMechNames) {
    if (m.name == name) return m.type;
  }
  if (name.size() > 2 && name.size() <= 18 && (name.substr(0, 2) == "0x" || name.substr(0, 2) == "0X")) {
    MechanismType value = 0;
    for (char c : name.substr(2)) {
      int digit = (c >= '0' && c <= '9') ? c - '0'
                  : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                  : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                           : -1;
      if (digit < 0) return std::nullopt;
      value = value << 4 | static_cast<MechanismType>(digit);
    }
    return value;
  }
  return std::nullopt;
}

std::string MechanismName(MechanismType type) {
  for (const MechName& m : kMechNames) {
    if (m.type == type) return std::string(m.name);
  }
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(type));  // NOLINT
  return buf;
}

}  // namespace certvault::core
