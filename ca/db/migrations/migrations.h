// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Migrate: brings a CA database to the newest schema version. One list of
// migrations serves SQLite and PostgreSQL; the few type differences are
// spelled as tokens ({ID}, {BLOB}) replaced per dialect. Each migration runs
// in its own transaction together with its schema_migrations row; concurrent
// processes are serialized (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory
// lock). The schema is documented in docs/formats/ca-db.md.
#ifndef CERTVAULT_CA_DB_MIGRATIONS_MIGRATIONS_H_
#define CERTVAULT_CA_DB_MIGRATIONS_MIGRATIONS_H_

#include <string>

#include "ca/db/sql.h"

namespace certvault::ca {

// Migrate: kFailedPrecondition if the database is newer than this program.
// Without `create`, also kFailedPrecondition when the database has no CA
// schema yet (empty, or another program's): only init creates the schema.
// `where` names the database in messages.
Status Migrate(SqlConnection& conn, bool create, const std::string& where);
// SchemaVersion: the newest version this program knows.
int SchemaVersion();

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_DB_MIGRATIONS_MIGRATIONS_H_
