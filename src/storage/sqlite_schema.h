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

// CheckFileHeader: a cheap check of the file `conn` opened, before any
// statement runs on it: a non-empty file must carry the SQLite magic and a
// full 100-byte header. kCorruptStore otherwise; kUnavailable if the file
// cannot be read. The header is read through SQLite's own file handle: a
// descriptor of our own, once closed, would drop every POSIX lock this
// process holds on the file, the WAL-mode shared locks of other connections
// included, and another process could then delete the WAL they still use.
Status CheckFileHeader(Connection& conn, const std::string& path);

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
