// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// SqliteStore: objects.
#include <string>

#include "src/base/status_macros.h"
#include "src/storage/sqlite_store.h"

namespace certvault::storage::internal {
namespace {

Status ObjectNotFound(ObjectId id) { return NotFoundError("object " + std::to_string(id) + " not found"); }

// InsertObjectRow: a new row at version `version` (1, or the row's own
// version when a backup is restored).
Status InsertObjectRow(Connection& conn, const ObjectRow& row, uint64_t version = 1) {
  CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("INSERT INTO objects(object_id, token_id, class, label, ckid, "
                                              "is_private, version, record) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8, ?7)"));
  CV_RETURN_IF_ERROR(stmt.BindU64(8, version));
  CV_RETURN_IF_ERROR(stmt.BindU64(1, row.object_id));
  CV_RETURN_IF_ERROR(stmt.BindU64(2, row.token_id));
  CV_RETURN_IF_ERROR(stmt.BindU64(3, row.object_class));
  CV_RETURN_IF_ERROR(stmt.BindBlob(4, row.label));
  CV_RETURN_IF_ERROR(stmt.BindBlob(5, row.ckid));
  CV_RETURN_IF_ERROR(stmt.BindInt(6, row.is_private ? 1 : 0));
  CV_RETURN_IF_ERROR(stmt.BindBlob(7, row.record));
  Status s = stmt.StepDone();
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("object id " + std::to_string(row.object_id) + " is taken");
  }
  if (s.code() == StatusCode::kNotFound) return NotFoundError("token " + std::to_string(row.token_id) + " not found");
  return s;
}

Status BindFind(Stmt& stmt, const ObjectQuery& query) {
  int index = 1;
  CV_RETURN_IF_ERROR(stmt.BindU64(index++, query.token_id));
  if (query.object_class.has_value()) CV_RETURN_IF_ERROR(stmt.BindU64(index++, *query.object_class));
  if (query.label.has_value()) CV_RETURN_IF_ERROR(stmt.BindBlob(index++, *query.label));
  if (query.ckid.has_value()) CV_RETURN_IF_ERROR(stmt.BindBlob(index++, *query.ckid));
  return OkStatus();
}

}  // namespace

// FindObjectsSql: the query for the fields `query` sets. Only fixed fragments are
// concatenated (values are bound), so there are 16 distinct statements, each
// prepared once per connection. Index choice: label, else ckid, else class.
// Without statistics SQLite rates all three indexes alike, and class has
// very few distinct values (every certificate shares one), so a unary "+"
// keeps the less selective terms from being used as index keys.
std::string FindObjectsSql(const ObjectQuery& query) {
  const bool has_label = query.label.has_value();
  const bool has_ckid = query.ckid.has_value();
  std::string sql = "SELECT object_id FROM objects WHERE token_id = ?";
  if (query.object_class.has_value()) sql += (has_label || has_ckid) ? " AND +class = ?" : " AND class = ?";
  if (has_label) sql += " AND label = ?";
  if (has_ckid) sql += has_label ? " AND +ckid = ?" : " AND ckid = ?";
  if (!query.include_private) sql += " AND is_private = 0";
  return sql + " ORDER BY object_id";
}

Status SqliteStore::InsertObject(const ObjectRow& row) {
  return Write([&](Connection& conn) { return InsertObjectRow(conn, row); });
}

Status SqliteStore::InsertObjects(const std::vector<ObjectRow>& rows) {
  return Write([&](Connection& conn) -> Status {
    for (const ObjectRow& row : rows) CV_RETURN_IF_ERROR(InsertObjectRow(conn, row));
    return OkStatus();
  });
}

Status SqliteStore::RestoreObjects(const std::vector<ObjectRow>& rows) {
  return Write([&](Connection& conn) -> Status {
    for (const ObjectRow& row : rows) CV_RETURN_IF_ERROR(InsertObjectRow(conn, row, row.version));
    return OkStatus();
  });
}

Status SqliteStore::UpdateObject(const ObjectRow& row) {
  if (row.version < 2) return InvalidArgumentError("an updated object's version must be at least 2");
  return Write([&](Connection& conn) -> Status {
    {
      CV_ASSIGN_OR_RETURN(Stmt get, conn.Prepare("SELECT version FROM objects WHERE object_id = ?1"));
      CV_RETURN_IF_ERROR(get.BindU64(1, row.object_id));
      CV_ASSIGN_OR_RETURN(bool found, get.Step());
      if (!found) return ObjectNotFound(row.object_id);
      if (get.ColumnU64(0) != row.version - 1) {
        return Status(StatusCode::kAborted, Reason::kFunctionFailed,
                      "object " + std::to_string(row.object_id) + " was changed by another writer; retry");
      }
    }
    CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("UPDATE objects SET class = ?2, label = ?3, ckid = ?4, "
                                                "is_private = ?5, record = ?6, version = ?7 "
                                                "WHERE object_id = ?1"));
    CV_RETURN_IF_ERROR(stmt.BindU64(1, row.object_id));
    CV_RETURN_IF_ERROR(stmt.BindU64(2, row.object_class));
    CV_RETURN_IF_ERROR(stmt.BindBlob(3, row.label));
    CV_RETURN_IF_ERROR(stmt.BindBlob(4, row.ckid));
    CV_RETURN_IF_ERROR(stmt.BindInt(5, row.is_private ? 1 : 0));
    CV_RETURN_IF_ERROR(stmt.BindBlob(6, row.record));
    CV_RETURN_IF_ERROR(stmt.BindU64(7, row.version));
    return stmt.StepDone();
  });
}

Status SqliteStore::DeleteObject(ObjectId id) {
  return Write([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("DELETE FROM objects WHERE object_id = ?1"));
    CV_RETURN_IF_ERROR(stmt.BindU64(1, id));
    CV_RETURN_IF_ERROR(stmt.StepDone());
    return conn.Changes() == 0 ? ObjectNotFound(id) : OkStatus();
  });
}

Result<ObjectRow> SqliteStore::GetObject(ObjectId id) {
  ObjectRow out;
  Status status = Read([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("SELECT token_id, class, label, ckid, is_private, version, record "
                                                "FROM objects WHERE object_id = ?1"));
    CV_RETURN_IF_ERROR(stmt.BindU64(1, id));
    CV_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return ObjectNotFound(id);
    out = ObjectRow{id, stmt.ColumnU64(0), stmt.ColumnU64(1), stmt.ColumnBlob(2), stmt.ColumnBlob(3),
                    stmt.ColumnInt(4) != 0, stmt.ColumnU64(5), stmt.ColumnBlob(6)};
    return OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

Result<uint64_t> SqliteStore::GetObjectVersion(ObjectId id) {
  uint64_t out = 0;
  Status status = Read([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("SELECT version FROM objects WHERE object_id = ?1"));
    CV_RETURN_IF_ERROR(stmt.BindU64(1, id));
    CV_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return ObjectNotFound(id);
    out = stmt.ColumnU64(0);
    return OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

Result<std::vector<ObjectId>> SqliteStore::FindObjects(const ObjectQuery& query) {
  std::vector<ObjectId> out;
  Status status = Read([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare(FindObjectsSql(query)));
    CV_RETURN_IF_ERROR(BindFind(stmt, query));
    for (;;) {
      CV_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return OkStatus();
      out.push_back(stmt.ColumnU64(0));
    }
  });
  if (!status.ok()) return status;
  return out;
}

Status SqliteStore::ForEachObject(TokenId id, const std::function<Status(const ObjectRow&)>& fn) {
  return Read([&](Connection& conn) -> Status {
    // One statement: SQLite runs it in one read transaction (one snapshot).
    CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("SELECT object_id, class, label, ckid, is_private, version, record "
                                                "FROM objects WHERE token_id = ?1 ORDER BY object_id"));
    CV_RETURN_IF_ERROR(stmt.BindU64(1, id));
    for (;;) {
      CV_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return OkStatus();
      CV_RETURN_IF_ERROR(fn(ObjectRow{stmt.ColumnU64(0), id, stmt.ColumnU64(1), stmt.ColumnBlob(2),
                                      stmt.ColumnBlob(3), stmt.ColumnInt(4) != 0, stmt.ColumnU64(5),
                                      stmt.ColumnBlob(6)}));
    }
  });
}

Result<uint64_t> SqliteStore::CountObjects(TokenId id, uint64_t object_class) {
  uint64_t out = 0;
  Status status = Read([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("SELECT count(*) FROM objects WHERE token_id = ?1 AND class = ?2"));
    CV_RETURN_IF_ERROR(stmt.BindU64(1, id));
    CV_RETURN_IF_ERROR(stmt.BindU64(2, object_class));
    CV_ASSIGN_OR_RETURN(bool row, stmt.Step());
    out = row ? stmt.ColumnU64(0) : 0;
    return OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

}  // namespace certvault::storage::internal
