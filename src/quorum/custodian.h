// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Custodian: a quorum custodian's token, opened with the custodian's PIN
// (docs/design/quorum.md). A custodian is an ordinary certvault token in its
// own vault directory (e.g. on removable media). It holds, in its own
// vault.db, sealed under a key derived from its token key:
//   custodian/<token>/key                 X25519 key pair (made at first use)
//   custodian/<token>/share/<quorum id>/<epoch>   its share of each quorum it is in
// so that a share is usable only by a process that knows the custodian PIN.
#ifndef CERTVAULT_QUORUM_CUSTODIAN_H_
#define CERTVAULT_QUORUM_CUSTODIAN_H_

#include <memory>
#include <string>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/core/backend.h"
#include "src/quorum/shamir.h"
#include "src/storage/store.h"

namespace certvault::quorum {

inline constexpr size_t kQuorumIdSize = 16;

// CustodianShare: a share as the custodian keeps it.
struct CustodianShare {
  Bytes quorum_id;  // 16 bytes
  uint32_t epoch = 0;
  Share share;
};

class Custodian {
 public:
  // Open: checks the user PIN of the first token in `vault_dir` (counted
  // like a login) and opens (or, the first time, creates) its key pair.
  // kNotFound if the directory holds no token; PIN errors as C_Login.
  static Result<std::unique_ptr<Custodian>> Open(const std::string& vault_dir, const std::string& config_path,
                                                 const SecretBytes& pin);

  const Bytes& public_key() const { return public_key_; }
  const std::string& name() const { return name_; }  // the token's label and serial

  // StoreShare: keeps `share` beside the shares of earlier epochs of its
  // quorum, so that a re-sharing that fails before the vault commits its new
  // record leaves the current epoch's share in place.
  Status StoreShare(const CustodianShare& share);
  // LoadShare: the share of quorum `quorum_id` at `epoch`; kNotFound if it
  // has none (with the epochs it does hold in the message).
  Result<CustodianShare> LoadShare(std::span<const uint8_t> quorum_id, uint32_t epoch);
  // Open: OpenWithKey with this custodian's private key.
  Result<SecretBytes> Unseal(std::string_view label, std::span<const uint8_t> aad, std::span<const uint8_t> sealed) const;
  // Record: appends `action` to the custodian token's own event log.
  void Record(const std::string& action, const std::string& result, const std::string& detail);

 private:
  Custodian() = default;
  Status LoadOrCreateKey();
  Result<SecretBytes> SealKey() const;

  std::unique_ptr<Backend> backend_;  // owns the store
  storage::Store* store_ = nullptr;
  storage::TokenId token_ = 0;
  std::string name_;
  SecretBytes token_key_;
  Bytes public_key_;
  SecretBytes private_key_;
};

}  // namespace certvault::quorum

#endif  // CERTVAULT_QUORUM_CUSTODIAN_H_
