// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The CA instance archive of `certvault-ca backup` / `restore`
// (docs/formats/backup.md, "CA instance archive", version 1): named entries
// (plain file names) and a SHA-256 over every byte. Pure encoding: no file
// system access here (ca/cli/cmd_backup.cc writes and reads the files).
#ifndef CERTVAULT_CA_DB_CA_ARCHIVE_H_
#define CERTVAULT_CA_DB_CA_ARCHIVE_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "src/base/bytes.h"
#include "src/base/result.h"

namespace certvault::ca {

struct CaArchiveEntry {
  std::string name;  // a plain file name (IsPlainEntryName)
  Bytes data;
};

// Entry names with a meaning beyond "a file of the instance directory".
inline constexpr char kCaArchiveTokenEntry[] = "token.cvbk";  // the token's archive (certvault backup)
// The PostgreSQL database as `pg_dump --format=plain` wrote it (one snapshot).
inline constexpr char kCaArchivePgDumpEntry[] = "database.pgdump.sql";

// IsPlainEntryName: [A-Za-z0-9._-], 1..255 characters, no leading dot, so
// that a restore writes only inside its directory.
bool IsPlainEntryName(const std::string& name);

// EncodeCaArchive: "CVCA" | version 1 | `created_ms` | the entries | SHA-256.
// kInvalidArgument if a name is not plain; kInternal if hashing fails.
Result<Bytes> EncodeCaArchive(const std::vector<CaArchiveEntry>& entries, uint64_t created_ms);

// DecodeCaArchive: the entries of an archive, after checking the magic, the
// version, every length, that nothing trails, every name (plain, no two
// alike) and the SHA-256.
// kDataLoss on any defect (nothing is returned then).
Result<std::vector<CaArchiveEntry>> DecodeCaArchive(std::span<const uint8_t> in);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_DB_CA_ARCHIVE_H_
