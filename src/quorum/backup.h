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

#include <functional>
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

// RestoreOptions: restore --overwrite (docs/design/quorum.md). With
// `overwrite`, the token already in the archive's slot is replaced, in the
// same transaction as the restore: `authorize` (the replaced token's quorum
// approval of `restore`, AuthorizeOp) runs after every check of the archive
// and before anything is written.
struct RestoreOptions {
  bool overwrite = false;
  std::function<Status()> authorize;
};

// RestoreBackup: rebuilds the backup key from the shares of `custodians`
// (at least k), decrypts and checks the archive, and writes the token into
// `store` in one transaction, keeping its id, objects, PINs and log.
// Nothing is written if anything fails. kAlreadyExists if the vault already
// has a token with that id and `options.overwrite` is false; with it,
// kNotFound if there is none, and whatever `authorize` returns. kDataLoss
// for a tampered, truncated or foreign archive; kPermissionDenied if the
// custodians do not rebuild the backup key.
Result<BackupSummary> RestoreBackup(storage::Store& store, std::span<const uint8_t> archive,
                                    const std::vector<Custodian*>& custodians, const RestoreOptions& options = {});

}  // namespace certvault::quorum

#endif  // CERTVAULT_QUORUM_BACKUP_H_
