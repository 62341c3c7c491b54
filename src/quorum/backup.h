// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Token backup archives (docs/formats/backup.md): every row of a token (the
// token record, its PIN records, every object including non-extractable
// keys, its audit keys and event log, its quorum record) and its token key,
// encrypted with AES-256-GCM under a fresh backup key that is split k-of-n
// to the token's quorum custodians, with a manifest, all signed by the
// token's audit key. The only way a non-extractable key leaves a vault.
#ifndef CERTVAULT_QUORUM_BACKUP_H_
#define CERTVAULT_QUORUM_BACKUP_H_

#include <string>
#include <vector>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/quorum/custodian.h"
#include "src/quorum/quorum.h"
#include "src/storage/store.h"

namespace certvault::quorum {

struct BackupSummary {
  storage::TokenId token = 0;
  std::string label, serial;
  size_t objects = 0;
  size_t bytes = 0;
};

// CreateBackup: the archive of token `token`, whose key is `token_key`,
// with the backup key split to `config`'s custodians. The caller has run
// AuthorizeOp("backup"). Records a `backup` event.
Result<Bytes> CreateBackup(storage::Store& store, storage::TokenId token, const SecretBytes& token_key,
                           const QuorumConfig& config, BackupSummary* out_summary);

// ArchiveInfo: what an archive says about itself before any custodian is
// involved (signature checked against the key the archive names).
struct ArchiveInfo {
  BackupSummary summary;
  uint8_t k = 0, n = 0;
  std::vector<std::string> custodians;
};
// InspectArchive: kDataLoss (kEncryptedDataInvalid) for a truncated,
// malformed or tampered archive.
Result<ArchiveInfo> InspectArchive(std::span<const uint8_t> archive);

// RestoreBackup: rebuilds the backup key from the shares of `custodians`
// (at least k), decrypts and checks the archive, and writes the token into
// `store` in one transaction, keeping its id, objects, PINs and log.
// Nothing is written if anything fails. kAlreadyExists if the vault already
// has a token with that id (never overwritten here). kDataLoss for a
// tampered, truncated or foreign archive; kPermissionDenied if the
// custodians do not rebuild the backup key.
Result<BackupSummary> RestoreBackup(storage::Store& store, std::span<const uint8_t> archive,
                                    const std::vector<Custodian*>& custodians);

}  // namespace certvault::quorum

#endif  // CERTVAULT_QUORUM_BACKUP_H_
