// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/db/migrations/migrations.h"

#include <ctime>
#include <string>
#include <vector>

#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

// kMigrations[i] takes the schema from version i to i+1. Append only.
const std::vector<std::string>& Migrations() {
  static const std::vector<std::string> kList = {
      R"sql(
CREATE TABLE certificates (
  id {ID},
  ca TEXT NOT NULL,
  serial TEXT NOT NULL,
  part INTEGER NOT NULL,
  subject TEXT NOT NULL,
  profile TEXT NOT NULL,
  not_before BIGINT NOT NULL,
  not_after BIGINT NOT NULL,
  issued_at BIGINT NOT NULL,
  status TEXT NOT NULL DEFAULT 'V' CHECK (status IN ('V', 'R')),
  revoked_at BIGINT,
  reason INTEGER,
  invalidity_date BIGINT,
  der {BLOB} NOT NULL,
  UNIQUE (ca, serial)
);
CREATE INDEX certificates_subject ON certificates (ca, subject);
CREATE INDEX certificates_expiry ON certificates (ca, not_after);
CREATE INDEX certificates_status ON certificates (ca, status);
CREATE TABLE revocations (
  id {ID},
  ca TEXT NOT NULL,
  serial TEXT NOT NULL,
  part INTEGER NOT NULL,
  revoked_at BIGINT NOT NULL,
  reason INTEGER NOT NULL,
  invalidity_date BIGINT,
  not_after BIGINT NOT NULL,
  UNIQUE (ca, serial)
);
CREATE INDEX revocations_scan ON revocations (ca, id);
CREATE TABLE crl_counters (
  ca TEXT NOT NULL,
  part INTEGER NOT NULL,
  next_number BIGINT NOT NULL,
  PRIMARY KEY (ca, part)
);
CREATE TABLE crls (
  ca TEXT NOT NULL,
  part INTEGER NOT NULL,
  number BIGINT NOT NULL,
  delta INTEGER NOT NULL,
  base_number BIGINT,
  this_update BIGINT NOT NULL,
  next_update BIGINT NOT NULL,
  max_revocation_id BIGINT NOT NULL,
  der {BLOB} NOT NULL,
  PRIMARY KEY (ca, part, number)
);
CREATE INDEX crls_latest ON crls (ca, part, delta, number);
CREATE TABLE audit_events (
  id {ID},
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  ca TEXT NOT NULL,
  object TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
)sql",
      // 2: which CA the database belongs to (written by init; checked by
      // every other command, so a foreign database is refused).
      R"sql(
CREATE TABLE ca_meta (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql",
      // 3: the tamper-evident audit chain (docs/formats/ca-audit.md): actor
      // fields, sequence numbers and hashes on audit_events, the chain head,
      // signed checkpoints. Rows from before stay as they are (seq NULL).
      R"sql(
ALTER TABLE audit_events ADD COLUMN role TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN result TEXT NOT NULL DEFAULT 'ok';
ALTER TABLE audit_events ADD COLUMN seq BIGINT;
ALTER TABLE audit_events ADD COLUMN prev_hash {BLOB};
ALTER TABLE audit_events ADD COLUMN hash {BLOB};
CREATE UNIQUE INDEX audit_events_seq ON audit_events (seq);
CREATE INDEX audit_events_revoke ON audit_events (ca, object) WHERE action = 'revoke';
CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY,
  seq BIGINT NOT NULL,
  hash {BLOB} NOT NULL
);
CREATE TABLE audit_checkpoints (
  seq BIGINT PRIMARY KEY,
  at BIGINT NOT NULL,
  hash {BLOB} NOT NULL,
  key_label TEXT NOT NULL,
  signature {BLOB} NOT NULL
);
)sql",
      // 4: identities and their roles (docs/design/roles.md). An identity is
      // bound to the operator certificate it signs in with.
      R"sql(
CREATE TABLE ca_users (
  name TEXT PRIMARY KEY,
  ca TEXT NOT NULL,
  cert_serial TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (ca, cert_serial)
);
CREATE TABLE ca_user_roles (
  name TEXT NOT NULL REFERENCES ca_users (name) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('authority', 'admin', 'crypto-officer', 'operator', 'auditor')),
  granted_by TEXT NOT NULL,
  granted_at BIGINT NOT NULL,
  PRIMARY KEY (name, role)
);
)sql",
      // 5: state that several `serve` processes on one database share
      // (docs/design/enrollment.md, "Several serve processes"): one-time
      // enrollment codes (burnt by one conditional UPDATE) and the CMP
      // transactionID -> certificate map (claimed before issuing; the serial
      // is set in the certificate's own transaction).
      R"sql(
CREATE TABLE enroll_codes (
  id TEXT PRIMARY KEY,
  profile TEXT NOT NULL,
  expires BIGINT NOT NULL,
  used BIGINT NOT NULL DEFAULT 0,
  salt {BLOB} NOT NULL,
  hash {BLOB} NOT NULL,
  secret {BLOB}
);
CREATE INDEX enroll_codes_expires ON enroll_codes (expires);
CREATE TABLE cmp_transactions (
  ca TEXT NOT NULL,
  tid TEXT NOT NULL,
  claim TEXT NOT NULL,
  claimed_at BIGINT NOT NULL,
  serial TEXT,
  PRIMARY KEY (ca, tid)
);
)sql",
      // 6: deliveries of update packages and their receipts (issue 14,
      // docs/design/provisioning.md, docs/formats/ca-db.md).
      R"sql(
CREATE TABLE provision_deliveries (
  id {ID},
  ca TEXT NOT NULL,
  target_serial TEXT NOT NULL,
  counter BIGINT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('key', 'renew', 'delete', 'capacity')),
  key_id TEXT NOT NULL,
  cert_serial TEXT NOT NULL,
  package_hash TEXT NOT NULL UNIQUE,
  identity_key TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  receipt_result TEXT,
  receipt_at BIGINT
);
CREATE INDEX provision_deliveries_target ON provision_deliveries (target_serial, counter);
)sql",
  };
  return kList;
}

std::string ForDialect(std::string sql, SqlDialect dialect) {
  auto replace = [&](const std::string& token, const std::string& with) {
    for (size_t pos = sql.find(token); pos != std::string::npos; pos = sql.find(token, pos + with.size())) {
      sql.replace(pos, token.size(), with);
    }
  };
  bool pg = dialect == SqlDialect::kPostgres;
  replace("{ID}", pg ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT");
  replace("{BLOB}", pg ? "BYTEA" : "BLOB");
  return sql;
}

Result<int> CurrentVersion(SqlConnection& conn) {
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt, conn.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  CV_ASSIGN_OR_RETURN(bool row, stmt->Step());
  int version = row ? static_cast<int>(stmt->Int(0)) : 0;
  stmt->Reset();  // an unfinished statement would pin SQLite's read snapshot
  return version;
}

Status ApplyPending(SqlConnection& conn) {
  const auto& list = Migrations();
  CV_ASSIGN_OR_RETURN(int version, CurrentVersion(conn));
  if (version > static_cast<int>(list.size())) {
    return FailedPreconditionError("the CA database schema (version " + std::to_string(version) +
                                   ") is newer than this program");
  }
  for (int v = version; v < static_cast<int>(list.size()); ++v) {
    CV_RETURN_IF_ERROR(conn.Begin());
    Status st = conn.Exec(ForDialect(list[v], conn.dialect()));
    if (st.ok()) {
      auto stmt = conn.Prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)");
      st = stmt.ok() ? OkStatus() : stmt.status();
      if (st.ok()) {
        (*stmt)->BindInt(1, v + 1);
        (*stmt)->BindInt(2, static_cast<int64_t>(std::time(nullptr)));
        auto r = (*stmt)->Step();
        if (!r.ok()) st = r.status();
      }
    }
    if (st.ok()) st = conn.Commit();
    if (!st.ok()) {
      conn.Rollback();
      return st.Annotate("migration " + std::to_string(v + 1));
    }
  }
  return OkStatus();
}

}  // namespace

int SchemaVersion() { return static_cast<int>(Migrations().size()); }

namespace {

Result<bool> HasMigrationTable(SqlConnection& conn) {
  const char* sql = conn.dialect() == SqlDialect::kPostgres
                        ? "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() "
                          "AND table_name = 'schema_migrations'"
                        : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt, conn.Prepare(sql));
  CV_ASSIGN_OR_RETURN(bool row, stmt->Step());
  bool found = row && stmt->Int(0) > 0;
  stmt->Reset();
  return found;
}

Result<int> CountTables(SqlConnection& conn) {
  const char* sql = conn.dialect() == SqlDialect::kPostgres
                        ? "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()"
                        : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'";
  CV_ASSIGN_OR_RETURN(SqlStatement * stmt, conn.Prepare(sql));
  CV_ASSIGN_OR_RETURN(bool row, stmt->Step());
  int n = row ? static_cast<int>(stmt->Int(0)) : 0;
  stmt->Reset();
  return n;
}

// CheckExisting: without `create`, only a database that already carries the
// CA schema is used: a missing, empty or foreign one is never silently
// replaced by a fresh one (its CRL numbers and revocations would restart).
Status CheckExisting(SqlConnection& conn, const std::string& where) {
  CV_ASSIGN_OR_RETURN(bool has, HasMigrationTable(conn));
  if (has) {
    CV_ASSIGN_OR_RETURN(int version, CurrentVersion(conn));
    if (version > 0) return OkStatus();
  }
  CV_ASSIGN_OR_RETURN(int tables, CountTables(conn));
  if (tables == 0) {
    return FailedPreconditionError("the CA database " + where +
                                   " is empty: only 'certvault-ca init' creates one; restore it from a backup");
  }
  return FailedPreconditionError("the database " + where + " is not a certvault-ca database");
}

}  // namespace

Status Migrate(SqlConnection& conn, bool create, const std::string& where) {
  bool pg = conn.dialect() == SqlDialect::kPostgres;
  // Serializes concurrent CA processes that open a fresh database together.
  if (pg) CV_RETURN_IF_ERROR(conn.Exec("SELECT pg_advisory_lock(5280)"));
  Status st = create ? OkStatus() : CheckExisting(conn, where);
  if (st.ok()) {
    st = conn.Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT)");
  }
  if (st.ok()) st = ApplyPending(conn);
  if (pg) (void)conn.Exec("SELECT pg_advisory_unlock(5280)");
  return st;
}

}  // namespace certvault::ca
