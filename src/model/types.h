// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Value types shared by the core, its backends (embedded, daemon client) and
// the boundaries (PKCS#11, provider, IPC, CLI). Numeric identifiers use the
// PKCS#11 constant values (CKA_*, CKM_*, CKO_*, CKK_*, CKF_*) stored as
// uint64_t: the vault model *is* the PKCS#11 object model, so core includes
// pkcs11.h for the constants only. CK_ULONG itself appears only in src/pkcs11.
#ifndef CERTVAULT_MODEL_TYPES_H_
#define CERTVAULT_MODEL_TYPES_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "src/base/bytes.h"
#include "src/base/secret_bytes.h"
#include "src/base/secure_allocator.h"
#include "src/model/pkcs11_constants.h"

namespace certvault {

using SlotId = uint64_t;
using SessionHandle = uint64_t;  // never 0
using ObjectHandle = uint64_t;   // never 0; equals the object's stable id
using AttributeType = uint64_t;  // CKA_*
using MechanismType = uint64_t;  // CKM_*
using ObjectClass = uint64_t;    // CKO_*
using KeyType = uint64_t;        // CKK_*

// Attribute: a type and its value bytes, exactly as PKCS#11 encodes them
// (CK_BBOOL as 1 byte, CK_ULONG as 8 native-endian bytes on LP64, ...).
// Values live in wiped memory because some are secrets (CKA_VALUE).
struct Attribute {
  AttributeType type = 0;
  SecureVector value;
};

// AttributeSet: attributes sorted by type, at most one per type.
class AttributeSet {
 public:
  AttributeSet() = default;
  AttributeSet(const AttributeSet&) = default;
  AttributeSet& operator=(const AttributeSet&) = default;
  AttributeSet(AttributeSet&&) noexcept = default;
  AttributeSet& operator=(AttributeSet&&) noexcept = default;

  // Set: inserts or replaces.
  void Set(AttributeType type, std::span<const uint8_t> value);
  void SetBool(AttributeType type, bool value);
  void SetUlong(AttributeType type, uint64_t value);
  void SetString(AttributeType type, std::string_view value);
  bool Erase(AttributeType type);

  bool Has(AttributeType type) const { return Find(type) != nullptr; }
  // Find: nullptr if absent.
  const Attribute* Find(AttributeType type) const;
  // Typed getters: nullopt if absent or malformed (wrong length).
  std::optional<bool> GetBool(AttributeType type) const;
  std::optional<uint64_t> GetUlong(AttributeType type) const;
  std::optional<std::span<const uint8_t>> GetBytes(AttributeType type) const;
  // GetBoolOr: the value, or `def` if absent.
  bool GetBoolOr(AttributeType type, bool def) const { return GetBool(type).value_or(def); }

  const std::vector<Attribute>& items() const { return items_; }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

 private:
  std::vector<Attribute> items_;  // sorted by type
};

// Native encodings (PKCS#11 CK_ULONG and CK_BBOOL on this platform).
SecureVector EncodeUlong(uint64_t v);
SecureVector EncodeBool(bool v);

// Mechanism parameters, parsed at the boundary from the CK_* structures.
struct RsaPssParams {
  MechanismType hash_alg = 0;  // CKM_SHA256, ...
  uint64_t mgf = 0;            // CKG_MGF1_SHA256, ...
  uint64_t salt_len = 0;
};
struct RsaOaepParams {
  MechanismType hash_alg = 0;
  uint64_t mgf = 0;
  uint64_t source = 0;  // 0 or CKZ_DATA_SPECIFIED
  Bytes label;
};
struct GcmParams {
  Bytes iv;
  uint64_t iv_bits = 0;
  Bytes aad;
  uint64_t tag_bits = 0;
};
struct Ecdh1DeriveParams {
  uint64_t kdf = 0;  // CKD_NULL, CKD_SHA256_KDF, ...
  Bytes shared_data;
  Bytes public_data;  // the peer's EC point (raw or DER OCTET STRING) or X25519 u-coordinate
};
struct EddsaParams {
  bool ph_flag = false;
  Bytes context;
};
// CK_AES_CTR_PARAMS: the initial counter block and how many of its low bits
// are the counter (1..128).
struct AesCtrParams {
  uint64_t counter_bits = 0;
  Bytes counter_block;  // 16 bytes
};
// `Bytes` alone carries an IV (CBC) or an opaque parameter.
using MechanismParams = std::variant<std::monostate, Bytes, RsaPssParams, RsaOaepParams, GcmParams,
                                     Ecdh1DeriveParams, EddsaParams, AesCtrParams>;

struct Mechanism {
  MechanismType type = 0;
  MechanismParams params;
};

struct MechanismInfo {
  MechanismType type = 0;
  uint64_t min_key_size = 0;
  uint64_t max_key_size = 0;
  uint64_t flags = 0;  // CKF_SIGN, CKF_VERIFY, CKF_HW=0, CKF_EC_*...
};

enum class UserType : uint8_t { kSo = 0, kUser = 1, kContextSpecific = 2 };

struct SlotInfo {
  SlotId id = 0;
  std::string description;  // ≤ 64 chars
  std::string manufacturer;  // ≤ 32 chars
  uint64_t flags = 0;        // CKF_TOKEN_PRESENT ...
};

struct TokenInfo {
  std::string label;           // ≤ 32 chars
  std::string manufacturer;    // ≤ 32
  std::string model;           // ≤ 16
  std::string serial;          // ≤ 16
  uint64_t flags = 0;          // CKF_RNG | CKF_LOGIN_REQUIRED | CKF_USER_PIN_* ...
  uint64_t max_session_count = 0;
  uint64_t session_count = 0;
  uint64_t max_rw_session_count = 0;
  uint64_t rw_session_count = 0;
  uint64_t max_pin_len = 0;
  uint64_t min_pin_len = 0;
  uint64_t total_public_memory = 0;
  uint64_t free_public_memory = 0;
  uint64_t total_private_memory = 0;
  uint64_t free_private_memory = 0;
  uint8_t hardware_version[2] = {0, 0};
  uint8_t firmware_version[2] = {0, 0};
  std::string utc_time;  // 16 chars "YYYYMMDDhhmmss00"
};

struct SessionInfo {
  SlotId slot = 0;
  uint64_t state = 0;  // CKS_*
  uint64_t flags = 0;  // CKF_RW_SESSION | CKF_SERIAL_SESSION
  uint64_t device_error = 0;
};

// OutBuf: the caller's output buffer, with PKCS#11 §5.2 semantics.
//  data == nullptr: length query; *len receives the size needed; OK.
//  *len too small: kBufferTooSmall, *len receives the size needed, the
//                  operation stays active.
//  otherwise: output written, *len receives its length.
struct OutBuf {
  uint8_t* data = nullptr;
  size_t* len = nullptr;
};

}  // namespace certvault

#endif  // CERTVAULT_MODEL_TYPES_H_
