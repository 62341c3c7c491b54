// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/crypto/kdf.h"

#include <argon2.h>

#include <climits>
#include <string>

#include "src/base/status_macros.h"

namespace certvault::crypto {
namespace {

constexpr uint32_t kMaxMemoryKib = 4u * 1024 * 1024;  // 4 GiB
constexpr uint32_t kMaxPasses = 64;
constexpr uint32_t kMaxLanes = 16;

}  // namespace

Status ValidateArgon2Params(const Argon2Params& params) {
  if (params.parallelism < 1 || params.parallelism > kMaxLanes) {
    return Status(Reason::kArgumentsBad, "Argon2 parallelism out of range (1..16)");
  }
  if (params.t_cost < 1 || params.t_cost > kMaxPasses) {
    return Status(Reason::kArgumentsBad, "Argon2 time cost out of range (1..64)");
  }
  // RFC 9106 §3.1: "m ... in the range [8*p, 2^32 - 1]"; we cap lower.
  if (params.m_cost_kib < 8u * params.parallelism || params.m_cost_kib > kMaxMemoryKib) {
    return Status(Reason::kArgumentsBad, "Argon2 memory cost out of range (8*p KiB .. 4 GiB)");
  }
  return OkStatus();
}

Result<SecretBytes> DeriveArgon2id(const SecretBytes& pin, std::span<const uint8_t> salt,
                                   const Argon2Params& params, size_t out_len) {
  CV_RETURN_IF_ERROR(ValidateArgon2Params(params));
  if (out_len < ARGON2_MIN_OUTLEN || out_len > kArgon2MaxOutputSize) {
    return Status(Reason::kArgumentsBad, "Argon2 output length out of range (4..1024)");
  }
  if (salt.size() < kArgon2MinSaltSize || salt.size() > UINT32_MAX || pin.size() > UINT32_MAX) {
    return Status(Reason::kArgumentsBad, "Argon2 salt too short or input too long");
  }
  SecretBytes out(out_len);
  std::span<const uint8_t> pwd = pin.Bytes(SecretAccess::Get());
  std::span<uint8_t> tag = out.MutableBytes(SecretAccess::Get());
  int rc = argon2id_hash_raw(params.t_cost, params.m_cost_kib, params.parallelism, pwd.data(), pwd.size(),
                             salt.data(), salt.size(), tag.data(), tag.size());
  if (rc == ARGON2_OK) return out;
  if (rc == ARGON2_MEMORY_ALLOCATION_ERROR) return Status(Reason::kHostMemory, "Argon2 memory allocation failed");
  return Status(Reason::kFunctionFailed, std::string("argon2id_hash_raw failed: ") + argon2_error_message(rc));
}

}  // namespace certvault::crypto
