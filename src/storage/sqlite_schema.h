// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Schema and migrations of the SQLite store (docs/formats/store.md).
#ifndef CERTVAULT_STORAGE_SQLITE_SCHEMA_H_
#define CERTVAULT_STORAGE_SQLITE_SCHEMA_H_

#include <cstdint>
#include <string>

#include "src/base/status.h"
#include "src/storage/sqlite_util.h"

namespace certvault::storage::internal {

// kSchemaVersion: the schema this build writes. meta.schema_version holds the
// version of a file; 0 means an empty (new) database.
inline constexpr int64_t kSchemaVersion = 3;

// CheckFileHeader: a cheap check before SQLite touches the file: a non-empty
// file must carry the SQLite magic and a full 100-byte header. Sets
// `out_empty` for a zero-length file. kCorruptStore otherwise; kUnavailable
// if the file cannot be read.
Status CheckFileHeader(const std::string& path, bool* out_empty);

// EnsureSchema: brings the database to kSchemaVersion inside one BEGIN
// IMMEDIATE transaction (safe when several processes open a new file at
// once): creates the schema in an empty database if `create` (else
// kCorruptStore), applies each pending migration in order, and refuses a
// newer schema (kFailedPrecondition / kTokenNotRecognized). A database
// without the certvault tables is kCorruptStore ("not a certvault database").
Status EnsureSchema(Connection& conn, bool create);

// CheckIntegrity: PRAGMA integrity_check (reads every page: O(size)).
Status CheckIntegrity(Connection& conn);

}  // namespace certvault::storage::internal

#endif  // CERTVAULT_STORAGE_SQLITE_SCHEMA_H_
