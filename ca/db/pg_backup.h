// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// A PostgreSQL CA database in and out of a CA instance archive
// (docs/formats/backup.md, "CA instance archive"; issue 16): a consistent
// snapshot by PostgreSQL's own pg_dump, loaded back by psql into an empty
// database in one transaction. The client programs are run directly
// (posix_spawnp, no shell), found on PATH; the connection string is passed to
// them as their --dbname argument (so a password belongs in ~/.pgpass or
// PGPASSFILE rather than in the URL, which other local users could read in
// the process list).
#ifndef CERTVAULT_CA_DB_PG_BACKUP_H_
#define CERTVAULT_CA_DB_PG_BACKUP_H_

#include <string>

#include "src/base/bytes.h"
#include "src/base/result.h"

namespace certvault::ca {

// DumpPostgres: `pg_dump --format=plain --no-owner --no-privileges` of the
// database `conninfo` into `scratch` (created 0600, never over an existing
// file, removed before returning) and returns it. pg_dump reads every table
// in one REPEATABLE READ transaction (one snapshot), so writers that commit
// meanwhile (an issuing process, `ocsp serve`) cannot tear it.
// kUnavailable when pg_dump cannot be run or fails.
Result<Bytes> DumpPostgres(const std::string& conninfo, const std::string& scratch);

// CheckPostgresEmpty: OkStatus when the database `conninfo` has no relation
// outside the system schemas; kFailedPrecondition naming how many it has;
// kUnavailable when it cannot be reached.
Status CheckPostgresEmpty(const std::string& conninfo);

// LoadPostgres: runs the plain dump `dump` with `psql --single-transaction
// -v ON_ERROR_STOP=1` against `conninfo` (through `scratch`, as above): all of
// it or, on any error, nothing. REQUIRES: CheckPostgresEmpty(conninfo) ok.
// kUnavailable when psql cannot be run or the load fails.
Status LoadPostgres(const std::string& conninfo, const Bytes& dump, const std::string& scratch);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_DB_PG_BACKUP_H_
