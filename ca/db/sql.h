// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// SqlConnection / SqlStatement: the few operations the certificate database
// needs, implemented for SQLite and for PostgreSQL, so that the CertDb logic
// and the schema are written once (sql_cert_db.cc, migrations/). SQL text uses
// ?N placeholders; the PostgreSQL driver rewrites them to $N. Values are only
// ever bound.
#ifndef CERTVAULT_CA_DB_SQL_H_
#define CERTVAULT_CA_DB_SQL_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "src/base/bytes.h"
#include "src/base/result.h"

namespace certvault::ca {

enum class SqlDialect { kSqlite, kPostgres };

class SqlStatement {
 public:
  virtual ~SqlStatement() = default;
  // Bind*: 1-based parameter index.
  virtual void BindText(int index, std::string_view value) = 0;
  virtual void BindInt(int index, int64_t value) = 0;
  // BindBlob: `value` is not copied: it must stay valid until Step returns.
  virtual void BindBlob(int index, std::span<const uint8_t> value) = 0;
  virtual void BindNull(int index) = 0;
  // Step: runs the statement (first call) and advances to the next row.
  // true = a row is available. kAlreadyExists on a unique-constraint violation.
  virtual Result<bool> Step() = 0;
  // Column accessors: 0-based, valid until the next Step/Reset.
  virtual std::string Text(int col) const = 0;
  // TextView: like Text without a copy; valid until the next Step/Reset.
  virtual std::string_view TextView(int col) const = 0;
  virtual int64_t Int(int col) const = 0;
  virtual Bytes Blob(int col) const = 0;
  virtual bool IsNull(int col) const = 0;
  // Reset: clears bindings and results so the statement can run again.
  virtual void Reset() = 0;
};

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  virtual SqlDialect dialect() const = 0;
  // Prepare: a statement owned by the connection's cache (reused across
  // calls with the same text); the pointer stays valid while the connection
  // lives. Reset() before reuse is done by Prepare.
  virtual Result<SqlStatement*> Prepare(const std::string& sql) = 0;
  // Exec: runs statements without parameters or results (schema, BEGIN...).
  virtual Status Exec(const std::string& sql) = 0;
  // Begin: a write transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: BEGIN).
  virtual Status Begin() = 0;
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;
};

// OpenSqlite: WAL journal, synchronous=FULL, a busy timeout for concurrent
// processes. With `create`, a missing file is created with mode 0600 (the
// WAL and shared-memory files inherit it); without, kFailedPrecondition.
// OpenPostgres: a libpq connection string.
Result<std::unique_ptr<SqlConnection>> OpenSqlite(const std::string& path, bool create);
Result<std::unique_ptr<SqlConnection>> OpenPostgres(const std::string& conninfo);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_DB_SQL_H_
